"""Display texts of the notification settings (nb, nn, en)."""

from __future__ import annotations

from resolvers.core.i18n import TEXTS, Language, add_texts

_TEXTS: dict[str, dict[Language, str]] = {
    "notify.channel.EMAIL": {"nb": "E-post", "nn": "E-post", "en": "Email"},
    "notify.channel.SMS": {"nb": "SMS", "nn": "SMS", "en": "Text message (SMS)"},
    "notify.channel.PUSH": {
        "nb": "Varsel i appen",
        "nn": "Varsel i appen",
        "en": "App notification",
    },
    "notify.event.NEW_MESSAGE": {"nb": "Ny melding", "nn": "Ny melding", "en": "New message"},
    "notify.event.NEW_DOCUMENT": {
        "nb": "Nytt dokument",
        "nn": "Nytt dokument",
        "en": "New document",
    },
    "notify.event.APPOINTMENT_REMINDER": {
        "nb": "Påminnelse om time",
        "nn": "Påminning om time",
        "en": "Appointment reminder",
    },
    "notify.event.NEW_RESULT": {"nb": "Nytt prøvesvar", "nn": "Nytt prøvesvar", "en": "New result"},
    "notify.event.QUESTIONNAIRE_DUE": {
        "nb": "Skjema som skal fylles ut",
        "nn": "Skjema som skal fyllast ut",
        "en": "Questionnaire due",
    },
    "notify.reminder.60": {"nb": "1 time før", "nn": "1 time før", "en": "1 hour before"},
    "notify.reminder.120": {"nb": "2 timer før", "nn": "2 timar før", "en": "2 hours before"},
    "notify.reminder.1440": {"nb": "1 døgn før", "nn": "1 døgn før", "en": "1 day before"},
    "notify.reminder.2880": {"nb": "2 døgn før", "nn": "2 døgn før", "en": "2 days before"},
    "notify.reminder.10080": {"nb": "1 uke før", "nn": "1 veke før", "en": "1 week before"},
    "error.NOT_ALLOWED": {
        "nb": "Velg en av de tillatte verdiene.",
        "nn": "Vel ein av dei tillatne verdiane.",
        "en": "Choose one of the allowed values.",
    },
    "error.NOTHING_TO_CHANGE": {
        "nb": "Ingen endringer er valgt.",
        "nn": "Ingen endringar er valde.",
        "en": "No changes were chosen.",
    },
    "error.DUPLICATE": {
        "nb": "Det samme valget er sendt flere ganger.",
        "nn": "Det same valet er sendt fleire gonger.",
        "en": "The same choice was sent more than once.",
    },
}


def register() -> None:
    """Add the texts (once; a key another feature defined identically is kept)."""
    add_texts({key: entry for key, entry in _TEXTS.items() if key not in TEXTS})
