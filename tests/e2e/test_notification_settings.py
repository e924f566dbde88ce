"""Notification settings end to end: defaults, partial changes, validation, who may."""

from __future__ import annotations

from typing import Any

from gateway.persisted import OPERATIONS_DIR
from resolvers.core.i18n import text
from tests.e2e.conftest import Harness
from tests.e2e.test_matrix import person_id

READ = (OPERATIONS_DIR / "settings.graphql").read_text(encoding="utf-8")
UPDATE = (OPERATIONS_DIR / "update_notification_settings.graphql").read_text(encoding="utf-8")
PARTNER = {"act": {"client_id": "partner-portal-x"}}
SUBSTANTIAL = "idporten-loa-substantial"


async def read(harness: Harness, viewer: str, target: str, **kw: Any) -> dict[str, Any]:
    variables = {"id": await person_id(harness, target)}
    body: dict[str, Any] = (await harness.query(viewer, READ, variables, **kw)).json()
    return body


async def update(
    harness: Harness,
    viewer: str,
    target: str,
    key: str,
    *,
    headers: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    values = {"personId": await person_id(harness, target), "idempotencyKey": key} | fields
    body: dict[str, Any] = (
        await harness.query(viewer, UPDATE, {"input": values}, headers=headers, **(claims or {}))
    ).json()
    assert "errors" not in body, body["errors"]
    payload: dict[str, Any] = body["data"]["updateNotificationSettings"]
    return payload


def flat(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        **{c["channel"]: c["enabled"] for c in settings["channels"]},
        **{e["event"]: e["enabled"] for e in settings["events"]},
        "reminder": settings["reminderMinutesBefore"],
        "language": settings["language"],
    }


DEFAULTS = {
    "EMAIL": True,
    "SMS": True,
    "PUSH": False,
    "NEW_MESSAGE": True,
    "NEW_DOCUMENT": True,
    "APPOINTMENT_REMINDER": True,
    "NEW_RESULT": True,
    "QUESTIONNAIRE_DUE": True,
    "reminder": 1440,
    "language": "NB",
}


async def test_the_defaults_apply_until_something_is_changed(harness: Harness) -> None:
    body = await read(harness, "kari", "kari", headers={"accept-language": "en"})
    assert "errors" not in body, body["errors"]
    settings = body["data"]["person"]["notificationSettings"]
    assert flat(settings) == DEFAULTS
    assert (settings["isDefault"], settings["updatedAt"]) == (True, None)
    assert settings["reminderText"] == "1 day before"
    assert [c["channelText"] for c in settings["channels"]] == [
        "Email",
        "Text message (SMS)",
        "App notification",
    ]
    assert [o["minutesBefore"] for o in settings["reminderOptions"]] == [60, 120, 1440, 2880, 10080]


async def test_partial_changes_show_in_the_next_read_and_keep_the_rest(harness: Harness) -> None:
    first = await update(
        harness,
        "kari",
        "kari",
        "settings-key-01",
        channels=[{"channel": "SMS", "enabled": False}, {"channel": "PUSH", "enabled": True}],
        reminderMinutesBefore=120,
    )
    assert first["userErrors"] == []
    second = await update(
        harness,
        "kari",
        "kari",
        "settings-key-02",
        events=[{"event": "NEW_RESULT", "enabled": False}],
        language="NN",
    )
    assert second["userErrors"] == []
    body = await read(harness, "kari", "kari")
    settings = body["data"]["person"]["notificationSettings"]
    expected = DEFAULTS | {
        "SMS": False,
        "PUSH": True,
        "reminder": 120,
        "NEW_RESULT": False,
        "language": "NN",
    }
    assert flat(settings) == expected == flat(second["settings"])
    assert settings["isDefault"] is False
    assert settings["updatedAt"].startswith("2026-")
    assert settings["reminderText"] == text("notify.reminder.120", "nb")
    # only the person's own: ola's settings are untouched
    assert flat((await read(harness, "ola", "ola"))["data"]["person"]["notificationSettings"]) == (
        DEFAULTS
    )


async def test_a_retry_changes_once_and_a_reused_key_is_refused(harness: Harness) -> None:
    change: dict[str, Any] = {"channels": [{"channel": "EMAIL", "enabled": False}]}
    first = await update(harness, "kari", "kari", "retry-settings-1", **change)
    again = await update(harness, "kari", "kari", "retry-settings-1", **change)
    assert again == first
    kari = harness.mocks.population.persona("kari").nin
    stored = await harness.app_services.userdata.settings(harness.app_services.ids.person_key(kari))
    assert stored is not None
    assert stored.version == 1
    reused = await update(harness, "kari", "kari", "retry-settings-1", language="EN")
    assert reused["settings"] is None
    assert [(e["field"], e["code"]) for e in reused["userErrors"]] == [
        (["idempotencyKey"], "KEY_REUSED")
    ]


async def test_invalid_changes_are_translated_user_errors_and_change_nothing(
    harness: Harness,
) -> None:
    fields: dict[str, Any] = {
        "reminderMinutesBefore": 90,
        "channels": [{"channel": "SMS", "enabled": False}, {"channel": "SMS", "enabled": True}],
    }
    answers = {}
    for language in ("en", "nn"):
        payload = await update(
            harness,
            "kari",
            "kari",
            f"invalid-settings-{language}",
            headers={"accept-language": language},
            **fields,
        )
        assert payload["settings"] is None
        answers[language] = {
            (tuple(e["field"]), e["code"]): e["message"] for e in payload["userErrors"]
        }
    assert set(answers["en"]) == {
        (("reminderMinutesBefore",), "NOT_ALLOWED"),
        (("channels", "1", "channel"), "DUPLICATE"),
    }
    assert answers["en"][(("reminderMinutesBefore",), "NOT_ALLOWED")] == (
        "Choose one of the allowed values."
    )
    assert answers["nn"][(("reminderMinutesBefore",), "NOT_ALLOWED")] == text(
        "error.NOT_ALLOWED", "nn"
    )
    nothing = await update(harness, "kari", "kari", "nothing-settings-1")
    assert [(e["field"], e["code"]) for e in nothing["userErrors"]] == [([], "NOTHING_TO_CHANGE")]
    settings = (await read(harness, "kari", "kari"))["data"]["person"]["notificationSettings"]
    assert settings["isDefault"] is True


async def test_a_young_person_manages_their_own_settings(harness: Harness) -> None:
    payload = await update(harness, "ida", "ida", "youth-settings-1", language="EN")
    assert payload["userErrors"] == []
    body = await read(harness, "ida", "ida")
    assert body["data"]["person"]["notificationSettings"]["language"] == "EN"


async def test_parents_and_proxies_have_no_settings_basis(harness: Harness) -> None:
    cases = [
        ("kari", "emil", "CHILD_0_11"),
        ("kari", "ida", "CHILD_12_15"),
        ("kari", "ola", "PROXY_FULL"),
        ("nils", "berit", "PROXY_STANDARD"),
    ]
    for viewer, target, reason in cases:
        body = await read(harness, viewer, target)
        assert body["data"]["person"]["notificationSettings"] is None
        assert [(e["extensions"]["code"], e["extensions"]["reason"]) for e in body["errors"]] == [
            ("CATEGORY_UNAVAILABLE", reason)
        ], (viewer, target)
        payload = await update(harness, viewer, target, f"no-basis-{target}", language="EN")
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["personId"], "CATEGORY_UNAVAILABLE")
        ]
    ida = harness.app_services.ids.person_key(harness.mocks.population.persona("ida").nin)
    assert await harness.app_services.userdata.settings(ida) is None


async def test_the_substantial_login_level_reaches_own_settings_only(harness: Harness) -> None:
    claims = {"acr": SUBSTANTIAL}
    body = await read(harness, "kari", "kari", **claims)
    assert "errors" not in body, body["errors"]
    assert body["data"]["person"]["notificationSettings"]["isDefault"] is True
    payload = await update(harness, "kari", "kari", "substantial-01", language="NN", claims=claims)
    assert payload["userErrors"] == []
    assert flat(payload["settings"])["language"] == "NN"


async def test_partners_need_the_settings_scopes(harness: Harness) -> None:
    refused = await read(harness, "kari", "kari", scope="helsegraf:identity.read", **PARTNER)
    assert refused["data"]["person"]["notificationSettings"] is None
    allowed = await read(harness, "kari", "kari", scope="helsegraf:settings.read", **PARTNER)
    assert allowed["data"]["person"]["notificationSettings"]["isDefault"] is True
    claims = {"scope": "helsegraf:settings.read", **PARTNER}
    denied = await update(harness, "kari", "kari", "partner-set-1", language="EN", claims=claims)
    assert [e["code"] for e in denied["userErrors"]] == ["CATEGORY_UNAVAILABLE"]
    claims = {"scope": "helsegraf:settings.read helsegraf:settings.write", **PARTNER}
    written = await update(harness, "kari", "kari", "partner-set-2", language="EN", claims=claims)
    assert written["userErrors"] == []


async def test_reads_and_changes_are_audited(harness: Harness) -> None:
    before = (await harness.app_services.audit.head())[0]
    await read(harness, "kari", "kari")
    await update(harness, "kari", "kari", "audit-settings-1", language="EN")
    entries = [r.entry async for r in harness.app_services.audit.records()][before:]
    mine = [(e.action, e.categories, e.resources, e.outcome) for e in entries]
    assert ("read", ("settings",), ("GATEWAY/NotificationSettings",), "success") in mine
    assert ("write", ("settings",), ("GATEWAY/NotificationSettings",), "success") in mine
