"""Item-level filters: labels, release categories, guardian reservations."""

from __future__ import annotations

import datetime as dt

import pytest

from authz.filters import keep, visible
from authz.policy import Basis, Policy, View
from sources.models import Security

POLICY = Policy.load()
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)
SELF = View(Basis.SELF, True)
YOUTH = View(Basis.YOUTH, True)
PARENT = View(Basis.PARENT, True, subject_age=8)
PROXY = View(Basis.PROXY, True, proxy_kind="full")
PARTNER = View(Basis.PARTNER, True, scopes=frozenset({"helsegraf:results.read"}))


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
