"""Display texts the gateway produces, in bokmål, nynorsk and English."""

from __future__ import annotations

from typing import Literal

Language = Literal["nb", "nn", "en"]
DEFAULT_LANGUAGE: Language = "nb"

_ALIASES: dict[str, Language] = {
    "nb": "nb",
    "no": "nb",
    "nob": "nb",
    "nn": "nn",
    "nno": "nn",
    "en": "en",
    "eng": "en",
}

TEXTS: dict[str, dict[Language, str]] = {
    "appointment.booked": {"nb": "Bestilt", "nn": "Bestilt", "en": "Booked"},
    "appointment.fulfilled": {"nb": "Gjennomført", "nn": "Gjennomført", "en": "Completed"},
    "appointment.cancelled": {"nb": "Avlyst", "nn": "Avlyst", "en": "Cancelled"},
    "appointment.noshow": {"nb": "Ikke møtt", "nn": "Ikkje møtt", "en": "Did not attend"},
    "appointment.arrived": {"nb": "Ankommet", "nn": "Komen", "en": "Arrived"},
    "appointment.unknown": {"nb": "Ukjent", "nn": "Ukjend", "en": "Unknown"},
    "service.HOME_NURSING": {
        "nb": "Hjemmesykepleie",
        "nn": "Heimesjukepleie",
        "en": "Home nursing",
    },
    "service.PRACTICAL_ASSISTANCE": {
        "nb": "Praktisk bistand",
        "nn": "Praktisk bistand",
        "en": "Practical assistance",
    },
    "service.SAFETY_ALARM": {"nb": "Trygghetsalarm", "nn": "Tryggleiksalarm", "en": "Safety alarm"},
    "service.MEAL_DELIVERY": {"nb": "Matombringing", "nn": "Matombringing", "en": "Meal delivery"},
    "service.UNKNOWN": {"nb": "Annen tjeneste", "nn": "Anna teneste", "en": "Other service"},
    "serviceStatus.GRANTED": {"nb": "Innvilget", "nn": "Innvilga", "en": "Granted"},
    "serviceStatus.ENDED": {"nb": "Avsluttet", "nn": "Avslutta", "en": "Ended"},
    "serviceStatus.UNKNOWN": {"nb": "Ukjent", "nn": "Ukjend", "en": "Unknown"},
    "document.INVITATION": {"nb": "Innkalling", "nn": "Innkalling", "en": "Invitation"},
    "document.LETTER": {"nb": "Brev", "nn": "Brev", "en": "Letter"},
    "document.VISIT_SUMMARY": {
        "nb": "Oppsummering etter besøk",
        "nn": "Oppsummering etter besøk",
        "en": "Visit summary",
    },
    "document.NOTE": {"nb": "Journalnotat", "nn": "Journalnotat", "en": "Clinical note"},
    "document.INSTRUCTIONS": {
        "nb": "Pasientinformasjon",
        "nn": "Pasientinformasjon",
        "en": "Patient instructions",
    },
    "document.OTHER": {"nb": "Dokument", "nn": "Dokument", "en": "Document"},
    "source.EHR": {"nb": "Helseplattformen", "nn": "Helseplattforma", "en": "Health platform"},
    "source.NATIONAL": {"nb": "Helsenorge", "nn": "Helsenorge", "en": "Helsenorge"},
    "source.MUNICIPAL": {"nb": "Kommunen", "nn": "Kommunen", "en": "The municipality"},
    "basis.SELF": {"nb": "Deg selv", "nn": "Deg sjølv", "en": "Yourself"},
    "basis.PARENT": {"nb": "Foreldre", "nn": "Foreldre", "en": "Parent"},
    "basis.PROXY": {"nb": "Fullmakt", "nn": "Fullmakt", "en": "Power of attorney"},
    "basis.YOUTH": {"nb": "Ungdom", "nn": "Ungdom", "en": "Youth"},
    "basis.PARTNER": {"nb": "Samarbeidspartner", "nn": "Samarbeidspartnar", "en": "Partner"},
    "error.REQUIRED": {
        "nb": "Feltet må fylles ut.",
        "nn": "Feltet må fyllast ut.",
        "en": "This field is required.",
    },
    "error.TOO_LONG": {
        "nb": "Teksten er for lang.",
        "nn": "Teksten er for lang.",
        "en": "The text is too long.",
    },
    "error.INVALID": {
        "nb": "Verdien er ugyldig.",
        "nn": "Verdien er ugyldig.",
        "en": "The value is not valid.",
    },
    "error.FORBIDDEN": {
        "nb": "Du har ikke tilgang til denne personen.",
        "nn": "Du har ikkje tilgang til denne personen.",
        "en": "You do not have access to this person.",
    },
    "error.CATEGORY_UNAVAILABLE": {
        "nb": "Tilgangen din gir ikke lov til dette.",
        "nn": "Tilgangen din gir ikkje lov til dette.",
        "en": "Your access does not allow this.",
    },
    "error.KEY_REUSED": {
        "nb": "Nøkkelen er brukt før med annet innhold.",
        "nn": "Nøkkelen er brukt før med anna innhald.",
        "en": "This idempotency key was used before with different content.",
    },
    "reason.default": {
        "nb": "Denne informasjonen er ikke tilgjengelig med din tilgang.",
        "nn": "Denne informasjonen er ikkje tilgjengeleg med tilgangen din.",
        "en": "This information is not available with your access.",
    },
    "reason.LOGIN_LEVEL_TOO_LOW": {
        "nb": "Logg inn med høyt sikkerhetsnivå (BankID) for å se helseopplysninger.",
        "nn": "Logg inn med høgt tryggleiksnivå (BankID) for å sjå helseopplysningar.",
        "en": "Log in with the high security level (BankID) to see health information.",
    },
    "reason.CHILD_12_15": {
        "nb": "Foreldre ser ikke denne informasjonen for barn mellom 12 og 16 år.",
        "nn": "Foreldre ser ikkje denne informasjonen for barn mellom 12 og 16 år.",
        "en": "Parents do not see this information for children aged 12 to 15.",
    },
    "reason.CHILD_0_11": {
        "nb": "Foreldre ser ikke denne informasjonen for barn under 12 år.",
        "nn": "Foreldre ser ikkje denne informasjonen for barn under 12 år.",
        "en": "Parents do not see this information for children under 12.",
    },
    "reason.YOUTH_SERVICES_ONLY": {
        "nb": "Ungdom mellom 13 og 16 år har tilgang til et utvalg tjenester.",
        "nn": "Ungdom mellom 13 og 16 år har tilgang til eit utval tenester.",
        "en": "Young people aged 13 to 15 have access to a selection of services.",
    },
    "reason.PROXY_STANDARD": {
        "nb": "Fullmakten din gjelder ikke denne informasjonen.",
        "nn": "Fullmakta di gjeld ikkje denne informasjonen.",
        "en": "Your power of attorney does not cover this information.",
    },
    "reason.PROXY_READ_ONLY": {
        "nb": "Fullmakten din gir bare lesetilgang.",
        "nn": "Fullmakta di gir berre lesetilgang.",
        "en": "Your power of attorney is read-only.",
    },
    "reason.PROXY_COMMUNICATE_ONLY": {
        "nb": "Fullmakten din gjelder bare meldinger og timeavtaler.",
        "nn": "Fullmakta di gjeld berre meldingar og timeavtalar.",
        "en": "Your power of attorney covers messages and appointments only.",
    },
    "reason.PROXY_FULL": {
        "nb": "Fullmakten din gjelder ikke denne informasjonen.",
        "nn": "Fullmakta di gjeld ikkje denne informasjonen.",
        "en": "Your power of attorney does not cover this information.",
    },
    "reason.PARTNER_SCOPE": {
        "nb": "Tjenesten har ikke fått tilgang til denne informasjonen.",
        "nn": "Tenesta har ikkje fått tilgang til denne informasjonen.",
        "en": "This service has not been given access to this information.",
    },
    "reason.NO_ACCESS_BASIS": {
        "nb": "Du har ikke tilgang til denne informasjonen.",
        "nn": "Du har ikkje tilgang til denne informasjonen.",
        "en": "You do not have access to this information.",
    },
}


def negotiate(accept_language: str | None) -> Language:
    """The best supported language for an `Accept-Language` header (bokmål by default)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, Language] | None = None
    for n, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = _ALIASES.get(tag.strip().lower().split("-")[0])
        if language is None or quality <= 0:
            continue
        rank = quality - n * 1e-6  # earlier wins among equals
        if best is None or rank > best[0]:
            best = (rank, language)
    return best[1] if best else DEFAULT_LANGUAGE


def text(key: str, language: Language) -> str:
    """The display text for `key`; the key itself if the catalogue lacks it."""
    entry = TEXTS.get(key)
    return entry[language] if entry else key


def add_texts(entries: dict[str, dict[Language, str]]) -> None:
    """Add a feature's display texts to the catalogue (call at import of the feature module).

    Every entry needs all three languages, and a key may be defined once only, so two
    features cannot silently overwrite each other's texts.
    """
    for key, entry in entries.items():
        if set(entry) != {"nb", "nn", "en"} or not all(v.strip() for v in entry.values()):
            raise ValueError(f"text {key!r} needs non-empty nb, nn and en")
        if key in TEXTS and TEXTS[key] != entry:
            raise ValueError(f"text {key!r} is defined twice")
        TEXTS[key] = entry
