"""Item-level filters: labels, release categories, guardian reservations."""

from __future__ import annotations

import datetime as dt

import pytest

from authz.facts import Security
from authz.filters import keep, message_shown, months_before, prescription_shown, visible
from authz.policy import Basis, Policy, View, partner_view

POLICY = Policy.load()
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
SELF = View(Basis.SELF, True)
YOUTH = View(Basis.YOUTH, True)
PARENT = View(Basis.PARENT, True, subject_age=8)
PROXY = View(Basis.PROXY, True, proxy_kind="full")
RESULTS_SCOPE = frozenset({"helsegraf:results.read"})
PARTNER = partner_view(SELF, scopes=RESULTS_SCOPE, registered=POLICY.categories)
PARTNER_FOR_YOUTH = partner_view(YOUTH, scopes=RESULTS_SCOPE, registered=POLICY.categories)
PARENT_14 = View(Basis.PARENT, True, subject_age=14)
TODAY = dt.date(2026, 11, 23)


def days_ago(n: int) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


@pytest.mark.parametrize(
    ("security", "view", "taken", "shown"),
    [
        pytest.param(Security(), PARENT, None, True, id="unlabelled-shown"),
        pytest.param(Security(confidentiality="N"), PROXY, None, True, id="normal-shown"),
        pytest.param(Security(confidentiality="R"), SELF, None, True, id="restricted-to-self"),
        pytest.param(
            Security(confidentiality="R"), PROXY, None, False, id="restricted-hidden-from-proxy"
        ),
        pytest.param(
            Security(confidentiality="V"),
            PARENT,
            None,
            False,
            id="very-restricted-hidden-from-parent",
        ),
        pytest.param(
            Security(sensitivity=frozenset({"HIV"})), SELF, None, True, id="sensitive-to-self"
        ),
        pytest.param(
            Security(sensitivity=frozenset({"PSY"})),
            YOUTH,
            None,
            True,
            id="sensitive-to-youth-self",
        ),
        pytest.param(
            Security(sensitivity=frozenset({"HIV"})),
            PARTNER,
            None,
            False,
            id="sensitive-hidden-from-partner",
        ),
        pytest.param(
            Security(sensitivity=frozenset({"PSY"})),
            PARTNER_FOR_YOUTH,
            None,
            False,
            id="sensitive-hidden-from-partner-for-youth",
        ),
        pytest.param(
            Security(confidentiality="R"),
            PARTNER,
            None,
            False,
            id="restricted-hidden-from-partner-for-self",
        ),
        pytest.param(
            Security(written_by_guardian=True),
            PARTNER_FOR_YOUTH,
            None,
            False,
            id="guardian-written-hidden-from-partner-for-youth",
        ),
        pytest.param(
            Security(written_by_guardian=True),
            PARTNER,
            None,
            True,
            id="guardian-written-shown-to-partner-for-adult",
        ),
        pytest.param(
            Security(release_category=2),
            PARTNER,
            days_ago(3),
            False,
            id="release-rules-hold-for-partner",
        ),
        pytest.param(
            Security(reserved_from_guardians=True),
            PARTNER_FOR_YOUTH,
            None,
            True,
            id="reserved-prescription-shown-to-partner-for-youth",
        ),
        pytest.param(
            Security(),
            View(Basis.PARTNER, True, scopes=RESULTS_SCOPE),
            None,
            False,
            id="partner-for-no-one-of-their-own-sees-nothing",
        ),
        pytest.param(
            Security(sensitivity=frozenset({"PSY"})),
            PARENT,
            None,
            False,
            id="sensitive-hidden-from-parent",
        ),
        pytest.param(
            Security(not_shown_electronically=True),
            SELF,
            None,
            False,
            id="not-shown-electronically-hidden-even-from-self",
        ),
        pytest.param(
            Security(kept_from_guardians=True),
            PARENT,
            None,
            False,
            id="kept-from-guardians-hidden-from-parent",
        ),
        pytest.param(
            Security(kept_from_guardians=True),
            PROXY,
            None,
            True,
            id="kept-from-guardians-not-a-proxy-rule",
        ),
        pytest.param(
            Security(reserved_from_guardians=True),
            PARENT,
            None,
            False,
            id="prescription-reserved-from-guardians",
        ),
        pytest.param(Security(release_category=1), SELF, days_ago(0), True, id="release-1-at-once"),
        pytest.param(
            Security(release_category=2), SELF, days_ago(3), False, id="release-2-waits-for-review"
        ),
        pytest.param(
            Security(release_category=2, reviewed_at=days_ago(1)),
            SELF,
            days_ago(3),
            True,
            id="release-2-after-review",
        ),
        pytest.param(
            Security(release_category=2), SELF, days_ago(14), True, id="release-2-after-14-days"
        ),
        pytest.param(
            Security(release_category=2),
            SELF,
            days_ago(13),
            False,
            id="release-2-not-after-13-days",
        ),
        pytest.param(
            Security(release_category=3),
            SELF,
            days_ago(400),
            False,
            id="release-3-waits-for-hand-release",
        ),
        pytest.param(
            Security(release_category=3, released_at=days_ago(1)),
            SELF,
            days_ago(400),
            True,
            id="release-3-released",
        ),
        pytest.param(
            Security(release_category=4, released_at=days_ago(1)),
            SELF,
            days_ago(400),
            False,
            id="release-4-never",
        ),
    ],
)
def test_visibility(security: Security, view: View, taken: dt.datetime | None, shown: bool) -> None:
    assert visible(POLICY, view, security, taken_at=taken, now=NOW) is shown


def test_keep_preserves_order_and_drops_hidden() -> None:
    items = [("a", Security()), ("b", Security(confidentiality="R")), ("c", Security())]
    kept = keep(items, POLICY, PROXY, lambda i: i[1])
    assert [name for name, _ in kept] == ["a", "c"]


def test_messages_a_guardian_wrote_are_hidden_from_the_youth_only() -> None:
    written = Security(written_by_guardian=True)
    assert not visible(POLICY, YOUTH, written, now=NOW)
    assert visible(POLICY, PARENT, written, now=NOW)
    assert visible(POLICY, SELF, written, now=NOW)


def ended(days: int) -> dict[str, object]:
    return {"active": False, "ended_on": TODAY - dt.timedelta(days=days)}


ACTIVE: dict[str, object] = {"active": True, "ended_on": None}


@pytest.mark.parametrize(
    ("view", "source", "facts", "shown"),
    [
        pytest.param(YOUTH, "NATIONAL", ACTIVE, True, id="youth-active-e-prescription"),
        pytest.param(YOUTH, "NATIONAL", ended(300), True, id="youth-ended-10-months-ago"),
        pytest.param(YOUTH, "NATIONAL", ended(365), True, id="youth-ended-12-months-ago-today"),
        pytest.param(YOUTH, "NATIONAL", ended(366), False, id="youth-ended-over-12-months-ago"),
        pytest.param(
            YOUTH,
            "NATIONAL",
            {"active": False, "ended_on": None},
            False,
            id="youth-ended-without-end-date",
        ),
        pytest.param(YOUTH, "EHR", ACTIVE, False, id="youth-not-the-hospital-medication-list"),
        pytest.param(
            PARTNER_FOR_YOUTH, "NATIONAL", ended(300), True, id="partner-for-youth-window"
        ),
        pytest.param(PARTNER_FOR_YOUTH, "EHR", ACTIVE, False, id="partner-for-youth-no-ehr"),
        pytest.param(SELF, "EHR", ACTIVE, True, id="self-every-source"),
        pytest.param(SELF, "NATIONAL", ended(30), False, id="self-active-only"),
        pytest.param(PARENT_14, "NATIONAL", ended(30), False, id="parent-active-only"),
        pytest.param(PARENT_14, "EHR", ACTIVE, True, id="parent-every-source"),
    ],
)
def test_prescriptions_a_view_lists(
    view: View, source: str, facts: dict[str, object], shown: bool
) -> None:
    active = facts["active"]
    ended_on = facts["ended_on"]
    assert isinstance(active, bool)
    assert ended_on is None or isinstance(ended_on, dt.date)
    listed = prescription_shown(
        POLICY, view, source=source, active=active, ended_on=ended_on, today=TODAY
    )
    assert listed is shown


@pytest.mark.parametrize(
    ("view", "kind", "shown"),
    [
        pytest.param(YOUTH, "GP", True, id="youth-gp"),
        pytest.param(YOUTH, "MUNICIPALITY", True, id="youth-municipality"),
        pytest.param(YOUTH, "HOSPITAL", False, id="youth-not-hospital"),
        pytest.param(PARTNER_FOR_YOUTH, "HOSPITAL", False, id="partner-for-youth-not-hospital"),
        pytest.param(PARTNER, "HOSPITAL", True, id="partner-for-adult-hospital"),
        pytest.param(SELF, "HOSPITAL", True, id="self-hospital"),
        pytest.param(PARENT_14, "HOSPITAL", True, id="parent-reads-as-before"),
    ],
)
def test_messages_a_view_reads_by_counterpart(view: View, kind: str, shown: bool) -> None:
    assert message_shown(POLICY, view, kind) is shown


def test_months_before_keeps_the_day_or_the_months_last() -> None:
    assert months_before(dt.date(2026, 11, 23), 12) == dt.date(2025, 11, 23)
    assert months_before(dt.date(2026, 5, 31), 3) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2024, 3, 31), 1) == dt.date(2024, 2, 29)
    assert months_before(dt.date(2027, 1, 31), 1) == dt.date(2026, 12, 31)
