"""The access policy as data: loaded from `policy.toml`, validated at start-up, then
asked pure questions (`decide`, `restrictions`)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

DEFAULT_POLICY = Path(__file__).with_name("policy.toml")


class Action(StrEnum):
    """What the viewer does with a category."""

    READ = "read"
    WRITE = "write"


class Basis(StrEnum):
    """Why the viewer may see a person's data."""

    SELF = "SELF"
    YOUTH = "YOUTH"
    PARENT = "PARENT"
    PROXY = "PROXY"
    PARTNER = "PARTNER"
    ANALYST = "ANALYST"


class PolicyError(ValueError):
    """The policy file is invalid; the message names the offending key."""


@dataclass(frozen=True, slots=True)
class Grant:
    """What one basis variant may do: categories per action, and its denial reason."""

    name: str
    read: frozenset[str]
    write: frozenset[str]
    reason: str
    past_appointments: bool = True
    from_age: int = 0
    to_age: int = 200
    message_recipients: frozenset[str] | None = None  # kinds one may write to; None: any

    def allows(self, category: str, action: Action) -> bool:
        """True when `action` on `category` is granted."""
        return category in (self.read if action is Action.READ else self.write)


@dataclass(frozen=True, slots=True)
class View:
    """How the viewer sees one subject in this request: everything the policy needs."""

    basis: Basis
    high_assurance: bool
    subject_age: int | None = None  # for the parent's age bands
    proxy_kind: str | None = None
    proxy_areas: tuple[int, ...] = ()
    scopes: frozenset[str] = frozenset()  # a partner's delegated scopes


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed, or denied with a reason code frontends translate."""

    allowed: bool
    reason: str | None = None


ALLOW = Decision(True)
LOW_ASSURANCE = "LOGIN_LEVEL_TOO_LOW"
NO_BASIS = "NO_ACCESS_BASIS"


def _strs(value: Any, key: str, known: frozenset[str] | None = None) -> frozenset[str]:
    if value == "*" and known is not None:
        return known
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f'{key} must be a list of category names or "*"')
    if known is not None:
        unknown = sorted(set(value) - known)
        if unknown:
            raise PolicyError(f"{key} names unknown categories: {', '.join(unknown)}")
    return frozenset(value)


def _int(table: Mapping[str, Any], key: str, path: str) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PolicyError(f"{path}.{key} must be a non-negative integer")
    return value


def _str(table: Mapping[str, Any], key: str, path: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise PolicyError(f"{path}.{key} must be a non-empty string")
    return value


def _table(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise PolicyError(f"{path}{key} must be a table")
    return value


class Policy:
    """A validated policy. Build with `Policy.load()` or `Policy.from_mapping()`."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        if raw.get("version") != 1:
            raise PolicyError("version must be 1")
        categories = _table(raw, "categories", "")
        self.categories = frozenset(categories)
        self.non_health = frozenset(
            name
            for name, spec in categories.items()
            if isinstance(spec, dict) and spec.get("health") is False
        )
        for name, spec in categories.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("health"), bool):
                raise PolicyError(f"categories.{name}.health must be true or false")
        known = self.categories
        self.high_acr = _str(_table(raw, "assurance", ""), "high", "assurance")
        labels = _table(raw, "labels", "")
        self.restricted_confidentiality = _strs(
            labels.get("restricted_confidentiality"), "labels.restricted_confidentiality"
        )
        self.sensitive = _strs(labels.get("sensitive"), "labels.sensitive")
        self.release_delay_days = _int(_table(raw, "release", ""), "delay_days", "release")

        own = _table(raw, "self", "")
        self.self_min_age = _int(own, "min_age", "self")
        self.own = Grant(
            "self",
            _strs(own.get("read"), "self.read", known),
            _strs(own.get("write"), "self.write", known),
            reason=NO_BASIS,
        )
        youth = _table(raw, "youth", "")
        self.youth = self._grant("youth", youth, "youth", known)
        self.youth_requires_consent = youth.get("requires_consent") is True
        sees = youth.get("sees_guardian_messages", False)
        if not isinstance(sees, bool):
            raise PolicyError("youth.sees_guardian_messages must be true or false")
        self.youth_sees_guardian_messages = sees

        parent = _table(raw, "parent", "")
        self.parent_ends_at = _int(parent, "ends_at_age", "parent")
        bands = parent.get("bands")
        if not isinstance(bands, list) or not bands:
            raise PolicyError("parent.bands must list at least one band")
        self.parent_bands = tuple(
            self._grant(_str(b, "name", f"parent.bands[{n}]"), b, f"parent.bands[{n}]", known)
            for n, b in enumerate(bands)
        )
        self._check_bands()

        proxy = _table(raw, "proxy", "")
        self.proxy_holder_min_age = _int(proxy, "holder_min_age", "proxy")
        self.proxy_grantor_min_age = _int(proxy, "grantor_min_age", "proxy")
        self.proxy_kinds = {
            name: self._grant(name, spec, f"proxy.kinds.{name}", known)
            for name, spec in _table(proxy, "kinds", "proxy.").items()
        }
        self.proxy_areas = {
            int(name): self._grant(f"area {name}", spec, f"proxy.areas.{name}", known)
            for name, spec in _table(proxy, "areas", "proxy.").items()
            if name.isdigit() or _raise(f"proxy.areas.{name} must be a service-area number")
        }
        partner = _table(raw, "partner", "")
        self.partner_prefix = _str(partner, "scope_prefix", "partner")
        self.partner_reason = _str(partner, "reason", "partner")
        analyst = _table(raw, "analyst", "")
        self.analyst_scope = _str(analyst, "scope", "analyst")
        self.analyst_min_cell = _int(analyst, "min_cell", "analyst")

    @staticmethod
    def _grant(name: str, spec: Any, path: str, known: frozenset[str]) -> Grant:
        if not isinstance(spec, dict):
            raise PolicyError(f"{path} must be a table")
        past = spec.get("past_appointments", True)
        if not isinstance(past, bool):
            raise PolicyError(f"{path}.past_appointments must be true or false")
        return Grant(
            name=name,
            read=_strs(spec.get("read"), f"{path}.read", known),
            write=_strs(spec.get("write"), f"{path}.write", known),
            reason=_str(spec, "reason", path),
            past_appointments=past,
            from_age=_int(spec, "from_age", path) if "from_age" in spec else 0,
            to_age=_int(spec, "to_age", path) if "to_age" in spec else 200,
            message_recipients=_recipient_kinds(spec, path),
        )

    def _check_bands(self) -> None:
        expected = 0
        for band in sorted(self.parent_bands, key=lambda b: b.from_age):
            if band.from_age != expected or band.to_age < band.from_age:
                raise PolicyError(f"parent.bands: band {band.name!r} leaves a gap or overlaps")
            expected = band.to_age + 1
        if expected != self.parent_ends_at:
            raise PolicyError("parent.bands must cover every age below parent.ends_at_age")

    @classmethod
    def load(cls, path: Path = DEFAULT_POLICY) -> Policy:
        """Read and validate a policy file."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PolicyError(f"cannot read policy file {path.name}: {exc}") from exc
        return cls(raw)

    # -- questions ---------------------------------------------------------------------

    def parent_band(self, age: int) -> Grant | None:
        """The parent's grant for a child of `age`, or None past the last band."""
        return next((b for b in self.parent_bands if b.from_age <= age <= b.to_age), None)

    def youth_allowed(self, age: int, consent: bool) -> bool:
        """True when a person of `age` may act for themself on the youth basis."""
        in_band = self.youth.from_age <= age <= self.youth.to_age
        return in_band and (consent or not self.youth_requires_consent)

    def grant(self, view: View) -> Grant | None:
        """The grant that applies to `view`, before assurance and partner scopes."""
        if view.basis is Basis.SELF or view.basis is Basis.PARTNER:
            return self.own
        if view.basis is Basis.YOUTH:
            return self.youth
        if view.basis is Basis.PARENT:
            return None if view.subject_age is None else self.parent_band(view.subject_age)
        if view.basis is Basis.PROXY:
            if view.proxy_kind is not None:
                return self.proxy_kinds.get(view.proxy_kind)
            areas = [self.proxy_areas[a] for a in view.proxy_areas if a in self.proxy_areas]
            return _union(areas) if areas else None
        return None

    def decide(self, view: View, category: str, action: Action) -> Decision:
        """May the viewer do `action` on `category` of this subject?"""
        if category not in self.categories:
            raise PolicyError(f"unknown category {category!r}")
        grant = self.grant(view)
        if grant is None:
            return Decision(False, NO_BASIS)
        if not grant.allows(category, action):
            return Decision(False, grant.reason)
        if view.basis is Basis.PARTNER:
            scope = f"{self.partner_prefix}{category}.{action.value}"
            if scope not in view.scopes:
                return Decision(False, self.partner_reason)
        if not view.high_assurance and category not in self.non_health:
            return Decision(False, LOW_ASSURANCE)
        return ALLOW

    def restrictions(
        self, view: View, categories: Iterable[str] | None = None
    ) -> list[tuple[str, str]]:
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


def _union(grants: list[Grant]) -> Grant:
    return Grant(
        name="+".join(g.name for g in grants),
        read=frozenset().union(*(g.read for g in grants)),
        write=frozenset().union(*(g.write for g in grants)),
        reason=grants[0].reason,
        past_appointments=any(g.past_appointments for g in grants),
    )


RECIPIENT_KINDS = frozenset({"HOSPITAL", "GP", "MUNICIPALITY"})


def _recipient_kinds(spec: Mapping[str, Any], path: str) -> frozenset[str] | None:
    if "message_recipients" not in spec:
        return None
    kinds = _strs(spec["message_recipients"], f"{path}.message_recipients")
    if not kinds <= RECIPIENT_KINDS:
        raise PolicyError(f"{path}.message_recipients: one of {', '.join(sorted(RECIPIENT_KINDS))}")
    return kinds


def _raise(message: str) -> bool:
    raise PolicyError(message)
