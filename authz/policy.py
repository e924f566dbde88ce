"""The access policy as data: loaded from `policy.toml`, validated at start-up, then
asked pure questions (`decide`, `restrictions`).

A partner service never sees more than the citizen it acts for: its view carries the
citizen's own view (SELF or YOUTH, decided exactly as for the citizen logging in), and
every question about the partner is answered by the citizen's grant first, then narrowed
by the partner's scopes and registered categories. No basis is widened by the way a
caller arrives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from authz.categories import Category
from authz.grants import Action, Grant, PolicyError, union
from authz.policy_file import NO_BASIS, PolicyFile

__all__ = [
    "ALLOW",
    "LOW_ASSURANCE",
    "OWN_BASES",
    "Action",
    "Basis",
    "Decision",
    "Grant",
    "Policy",
    "PolicyError",
    "View",
    "partner_view",
]


class Basis(StrEnum):
    """Why the viewer may see a person's data."""

    SELF = "SELF"
    YOUTH = "YOUTH"
    PARENT = "PARENT"
    PROXY = "PROXY"
    PARTNER = "PARTNER"
    ANALYST = "ANALYST"


# The bases on which a person acts for themself; a partner acts on one of these or not at all.
OWN_BASES = frozenset({Basis.SELF, Basis.YOUTH})


@dataclass(frozen=True, slots=True)
class View:
    """How the viewer sees one subject in this request: everything the policy needs.

    A partner's view holds `citizen`, the citizen's own view; a partner view without one
    (a citizen with no basis of their own) is granted nothing.
    """

    basis: Basis
    high_assurance: bool
    subject_age: int | None = None  # for the parent's age bands
    proxy_kind: str | None = None
    proxy_areas: tuple[int, ...] = ()
    scopes: frozenset[str] = frozenset()  # a partner's delegated scopes
    registered: frozenset[Category] = frozenset()  # the categories a partner is registered for
    citizen: View | None = None  # a partner's: the citizen's own view (SELF or YOUTH)

    def __post_init__(self) -> None:
        if self.citizen is not None and (
            self.basis is not Basis.PARTNER or self.citizen.basis not in OWN_BASES
        ):
            raise ValueError("only a partner view carries a citizen view, SELF or YOUTH")


def partner_view(citizen: View, *, scopes: frozenset[str], registered: frozenset[Category]) -> View:
    """A partner's view of the citizen whose own view is `citizen`: never more than that
    view, and only the categories both the token's scopes and the registry name."""
    return View(
        Basis.PARTNER,
        citizen.high_assurance,
        scopes=scopes,
        registered=registered,
        citizen=citizen,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed, or denied with a reason code frontends translate."""

    allowed: bool
    reason: str | None = None


ALLOW = Decision(True)
LOW_ASSURANCE = "LOGIN_LEVEL_TOO_LOW"


class Policy(PolicyFile):
    """A validated policy (`authz.policy_file`), asked pure questions. Build with
    `Policy.load()`, or `Policy(raw)` from a parsed policy file."""

    def parent_band(self, age: int) -> Grant | None:
        """The parent's grant for a child of `age`, or None past the last band."""
        return next((b for b in self.parent_bands if b.from_age <= age <= b.to_age), None)

    def youth_allowed(self, age: int, consent: bool) -> bool:
        """True when a person of `age` may act for themself on the youth basis."""
        in_band = self.youth.from_age <= age <= self.youth.to_age
        return in_band and (consent or not self.youth_requires_consent)

    def own_basis(self, age: int, consent: bool) -> Basis | None:
        """The basis a person of `age` (with or without a recorded youth consent) acts on
        for themself: SELF from `self.min_age`, YOUTH in the youth band with consent,
        otherwise none. The same answer for the citizen and for a partner acting for them."""
        if age >= self.self_min_age:
            return Basis.SELF
        return Basis.YOUTH if self.youth_allowed(age, consent) else None

    def grant(self, view: View) -> Grant | None:
        """The grant that applies to `view`, before assurance and partner scopes; a
        partner's is the citizen's own."""
        if view.basis is Basis.PARTNER:
            return None if view.citizen is None else self.grant(view.citizen)
        if view.basis is Basis.SELF:
            return self.own
        if view.basis is Basis.YOUTH:
            return self.youth
        if view.basis is Basis.PARENT:
            return None if view.subject_age is None else self.parent_band(view.subject_age)
        if view.basis is Basis.PROXY:
            if view.proxy_kind is not None:
                return self.proxy_kinds.get(view.proxy_kind)
            areas = [self.proxy_areas[a] for a in view.proxy_areas if a in self.proxy_areas]
            return union(areas) if areas else None
        return None

    def decide(self, view: View, category: Category, action: Action) -> Decision:
        """May the viewer do `action` on `category` of this subject?"""
        if category not in self.categories:
            raise PolicyError(f"unknown category {category!r}")
        grant = self.grant(view)
        if grant is None:
            return Decision(False, NO_BASIS)
        if not grant.allows(category, action):
            return Decision(False, grant.reason)
        if view.basis is Basis.PARTNER and not self._partner_may(view, category, action):
            return Decision(False, self.partner_reason)
        if not view.high_assurance and category not in self.non_health:
            return Decision(False, LOW_ASSURANCE)
        return ALLOW

    def _partner_may(self, view: View, category: Category, action: Action) -> bool:
        scope = f"{self.partner_prefix}{category}.{action.value}"
        return category in view.registered and scope in view.scopes

    def restrictions(
        self, view: View, categories: Iterable[Category] | None = None
    ) -> list[tuple[Category, str]]:
        """(category, reason) for every category the viewer may not read, in name order."""
        out = []
        for category in sorted(categories if categories is not None else self.categories):
            decision = self.decide(view, category, Action.READ)
            if not decision.allowed:
                assert decision.reason is not None
                out.append((category, decision.reason))
        return out

    def message_recipients(self, view: View) -> frozenset[str] | None:
        """The kinds of recipient (HOSPITAL, GP, MUNICIPALITY) the viewer may write to for
        this subject; None when any."""
        grant = self.grant(view)
        return None if grant is None else grant.message_recipients

    def past_appointments(self, view: View) -> bool:
        """May the viewer list past appointments (some proxy kinds see upcoming only)?"""
        grant = self.grant(view)
        return grant is not None and grant.past_appointments
