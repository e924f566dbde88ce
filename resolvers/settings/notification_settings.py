"""Notification settings: which channels and which events, how long before an appointment
to remind, in which language. Gateway-owned; contact addresses stay in the national
registry. Defaults apply until the person changes something."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from authz.categories import Category
from authz.policy import Action
from resolvers.core.access import Subject
from resolvers.core.context import Context
from resolvers.core.guard import require, served, watch
from resolvers.core.i18n import text
from resolvers.core.writes import UserError, acting, check_key, once, user_error
from resolvers.notes.private_notes import subject_key
from resolvers.settings import notification_texts
from sources.userdata import StoredSettings

notification_texts.register()

CATEGORY = Category.SETTINGS
AUDIT_REF = "GATEWAY/NotificationSettings"
REMINDER_MINUTES = (60, 120, 1440, 2880, 10080)


@strawberry.enum(description="A way to be notified.")
class NotificationChannel(Enum):
    EMAIL = strawberry.enum_value("EMAIL", description="Email, to the registry's address.")
    SMS = strawberry.enum_value("SMS", description="Text message, to the registry's number.")
    PUSH = strawberry.enum_value("PUSH", description="A notification in the app.")


@strawberry.enum(description="Something the person can be notified about.")
class NotificationEvent(Enum):
    NEW_MESSAGE = strawberry.enum_value("NEW_MESSAGE", description="A new message.")
    NEW_DOCUMENT = strawberry.enum_value("NEW_DOCUMENT", description="A new document.")
    APPOINTMENT_REMINDER = strawberry.enum_value(
        "APPOINTMENT_REMINDER", description="A reminder before an appointment."
    )
    NEW_RESULT = strawberry.enum_value("NEW_RESULT", description="A new test result.")
    QUESTIONNAIRE_DUE = strawberry.enum_value(
        "QUESTIONNAIRE_DUE", description="A questionnaire waiting to be answered."
    )


@strawberry.enum(description="The language notifications are written in.")
class NotificationLanguage(Enum):
    NB = strawberry.enum_value("NB", description="Norwegian bokmål.")
    NN = strawberry.enum_value("NN", description="Norwegian nynorsk.")
    EN = strawberry.enum_value("EN", description="English.")


DEFAULTS: dict[str, Any] = {
    **{f"channel.{c.value}": c is not NotificationChannel.PUSH for c in NotificationChannel},
    **{f"event.{e.value}": True for e in NotificationEvent},
    "reminder.minutes": 1440,
    "language": NotificationLanguage.NB.value,
}


def _valid(key: str, value: Any) -> bool:
    if key == "reminder.minutes":
        return value in REMINDER_MINUTES
    if key == "language":
        return value in {lang.value for lang in NotificationLanguage}
    return isinstance(value, bool)


def effective(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults overlaid with the stored values (unknown or invalid ones ignored)."""
    return {
        key: stored[key] if key in stored and _valid(key, stored[key]) else default
        for key, default in DEFAULTS.items()
    }


@strawberry.type(description="Whether one channel is used.")
class ChannelSetting:
    channel: NotificationChannel = strawberry.field(description="The channel.")
    channel_text: str = strawberry.field(description="Its name in the caller's language.")
    enabled: bool = strawberry.field(description="True when notifications go this way.")


@strawberry.type(description="Whether the person is notified about one kind of event.")
class EventSetting:
    event: NotificationEvent = strawberry.field(description="The kind of event.")
    event_text: str = strawberry.field(description="Its name in the caller's language.")
    enabled: bool = strawberry.field(description="True when the person is notified.")


@strawberry.type(description="One allowed choice of how long before an appointment to remind.")
class ReminderOption:
    minutes_before: int = strawberry.field(description="Minutes before the appointment.")
    text: str = strawberry.field(description="E.g. '1 day before', in the caller's language.")


@strawberry.type(
    description="How and about what the person wants to be notified. Addresses and phone "
    "numbers are not here: they come from the national contact registry."
)
class NotificationSettings:
    values: strawberry.Private[dict[str, Any]]
    stored: strawberry.Private[StoredSettings | None]

    @strawberry.field(description="Email, SMS and app notifications, each on or off.")
    def channels(self, info: Info[Context, None]) -> list[ChannelSetting]:
        lang = info.context.language
        return [
            ChannelSetting(
                channel=c,
                channel_text=text(f"notify.channel.{c.value}", lang),
                enabled=self.values[f"channel.{c.value}"],
            )
            for c in NotificationChannel
        ]

    @strawberry.field(description="Each kind of event, on or off.")
    def events(self, info: Info[Context, None]) -> list[EventSetting]:
        lang = info.context.language
        return [
            EventSetting(
                event=e,
                event_text=text(f"notify.event.{e.value}", lang),
                enabled=self.values[f"event.{e.value}"],
            )
            for e in NotificationEvent
        ]

    @strawberry.field(description="How many minutes before an appointment the reminder comes.")
    def reminder_minutes_before(self) -> int:
        return int(self.values["reminder.minutes"])

    @strawberry.field(description="`reminderMinutesBefore` in the caller's language.")
    def reminder_text(self, info: Info[Context, None]) -> str:
        return text(f"notify.reminder.{self.values['reminder.minutes']}", info.context.language)

    @strawberry.field(description="The allowed reminder times, shortest first.")
    def reminder_options(self, info: Info[Context, None]) -> list[ReminderOption]:
        lang = info.context.language
        return [
            ReminderOption(minutes_before=m, text=text(f"notify.reminder.{m}", lang))
            for m in REMINDER_MINUTES
        ]

    @strawberry.field(description="The language notifications are written in.")
    def language(self) -> NotificationLanguage:
        return NotificationLanguage(self.values["language"])

    @strawberry.field(description="True while nothing was changed from the defaults.")
    def is_default(self) -> bool:
        return self.stored is None

    @strawberry.field(description="When the person last changed a setting; null if never.")
    def updated_at(self) -> dt.datetime | None:
        return None if self.stored is None else self.stored.updated_at


def _settings(stored: StoredSettings | None) -> NotificationSettings:
    return NotificationSettings(values=effective(stored.values if stored else {}), stored=stored)


async def notification_settings_of(
    info: Info[Context, None], subject: Subject
) -> NotificationSettings:
    """The subject's settings (the defaults until something is changed)."""
    require(info.context, subject, CATEGORY)
    async with watch(info.context, subject, CATEGORY):
        stored = await info.context.userdata.settings(subject_key(info, subject))
    served(info.context, subject, CATEGORY, (AUDIT_REF,))
    return _settings(stored)


@strawberry.input(description="Turn one channel on or off.")
class ChannelChange:
    channel: NotificationChannel = strawberry.field(description="The channel.")
    enabled: bool = strawberry.field(description="On or off.")


@strawberry.input(description="Turn notifications about one kind of event on or off.")
class EventChange:
    event: NotificationEvent = strawberry.field(description="The kind of event.")
    enabled: bool = strawberry.field(description="On or off.")


@strawberry.input(description="Changes to notification settings; what is left out stays.")
class UpdateNotificationSettingsInput:
    person_id: strawberry.ID = strawberry.field(description="Whose settings (the viewer's own).")
    channels: list[ChannelChange] | None = strawberry.field(
        default=None, description="Channels to turn on or off."
    )
    events: list[EventChange] | None = strawberry.field(
        default=None, description="Kinds of event to turn on or off."
    )
    reminder_minutes_before: int | None = strawberry.field(
        default=None,
        description="How long before an appointment to remind; one of `reminderOptions`.",
    )
    language: NotificationLanguage | None = strawberry.field(
        default=None, description="The language of notifications."
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result."
    )


@strawberry.type(description="The outcome of changing notification settings.")
class UpdateNotificationSettingsPayload:
    settings: NotificationSettings | None = strawberry.field(
        description="The settings as they are now."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed.")


def _changes(
    info: Info[Context, None], data: UpdateNotificationSettingsInput
) -> tuple[dict[str, Any], list[UserError]]:
    changes: dict[str, Any] = {}
    errors: list[UserError] = []
    pairs: list[tuple[str, str, list[tuple[str, bool]]]] = [
        ("channels", "channel", [(str(c.channel.value), c.enabled) for c in data.channels or []]),
        ("events", "event", [(str(e.event.value), e.enabled) for e in data.events or []]),
    ]
    for field, name, items in pairs:
        for n, (which, enabled) in enumerate(items):
            key = f"{name}.{which}"
            if key in changes:
                errors.append(user_error(info, [field, str(n), name], "DUPLICATE"))
            changes[key] = enabled
    if data.reminder_minutes_before is not None:
        if data.reminder_minutes_before not in REMINDER_MINUTES:
            errors.append(user_error(info, "reminderMinutesBefore", "NOT_ALLOWED"))
        changes["reminder.minutes"] = data.reminder_minutes_before
    if data.language is not None:
        changes["language"] = data.language.value
    if not changes and not errors:
        errors.append(user_error(info, [], "NOTHING_TO_CHANGE"))
    return changes, errors


async def update_notification_settings(
    info: Info[Context, None], data: UpdateNotificationSettingsInput
) -> UpdateNotificationSettingsPayload:
    """Apply partial changes to the person's notification settings."""
    ctx = info.context
    changes, errors = _changes(info, data)
    errors += check_key(info, data.idempotency_key)
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied or errors:
        return UpdateNotificationSettingsPayload(settings=None, user_errors=[*errors, *denied])

    async def change(scoped: str) -> StoredSettings:
        async with watch(info.context, subject, CATEGORY, Action.WRITE):
            return await ctx.userdata.change_settings(
                subject_key(info, subject), changes, now=ctx.now
            )

    stored = await once(
        info, subject, data.idempotency_key, sorted(changes.items()), change, category=CATEGORY
    )
    if isinstance(stored, UserError):
        return UpdateNotificationSettingsPayload(settings=None, user_errors=[stored])
    served(info.context, subject, CATEGORY, (AUDIT_REF,), Action.WRITE)
    return UpdateNotificationSettingsPayload(settings=_settings(stored), user_errors=[])


@strawberry.type
class NotificationSettingFields:
    subject: strawberry.Private[Subject]

    @strawberry.field(
        description="How and about what the person wants to be notified; the defaults "
        "until changed. The person's own (also at the substantial login level); a "
        "13-15-year-old with consent manages their own."
    )
    async def notification_settings(self, info: Info[Context, None]) -> NotificationSettings | None:
        return await notification_settings_of(info, self.subject)


@strawberry.type(description="Changing notification settings.")
class NotificationSettingMutations:
    @strawberry.mutation(
        description="Change some notification settings; what is left out stays as it is. "
        "Needs the `settings` write permission (the person themself)."
    )
    async def update_notification_settings(
        self, info: Info[Context, None], input: UpdateNotificationSettingsInput
    ) -> UpdateNotificationSettingsPayload:
        return await update_notification_settings(info, input)
