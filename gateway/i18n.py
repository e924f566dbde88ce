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
    "source.EHR": {"nb": "Helseplattformen", "nn": "Helseplattforma", "en": "Health platform"},
    "source.NATIONAL": {"nb": "Helsenorge", "nn": "Helsenorge", "en": "Helsenorge"},
    "source.MUNICIPAL": {"nb": "Kommunen", "nn": "Kommunen", "en": "The municipality"},
    "basis.SELF": {"nb": "Deg selv", "nn": "Deg sjølv", "en": "Yourself"},
    "basis.PARENT": {"nb": "Foreldre", "nn": "Foreldre", "en": "Parent"},
    "basis.PROXY": {"nb": "Fullmakt", "nn": "Fullmakt", "en": "Power of attorney"},
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
