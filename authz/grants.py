"""What one basis variant may do (`Grant`), and reading grants from the policy file.

Pure: the policy loader (`authz.policy_file`) hands the parsed TOML tables in; every error
names the offending key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from authz.categories import Category
from authz.codes import is_reason_code


class Action(StrEnum):
    """What the viewer does with a category."""

    READ = "read"
    WRITE = "write"


class PolicyError(ValueError):
    """The policy file is invalid; the message names the offending key."""


# The kinds of care provider on the other side of a message (sources.models.Message).
COUNTERPART_KINDS = frozenset({"HOSPITAL", "GP", "MUNICIPALITY"})
# Where a medicine on the merged list comes from (sources.models.SourceKind).
PRESCRIPTION_SOURCES = frozenset({"EHR", "NATIONAL"})


@dataclass(frozen=True, slots=True)
class Grant:
    """What one basis variant may do: categories per action, its denial reason, and the
    item rules that narrow a category it may read (None: no narrowing)."""

    name: str
    read: frozenset[Category]
    write: frozenset[Category]
    reason: str
    past_appointments: bool = True
    from_age: int = 0
    to_age: int = 200
    message_recipients: frozenset[str] | None = None  # kinds one may write to; None: any
    messages_with: frozenset[str] | None = None  # kinds whose messages one reads; None: any
    prescription_sources: frozenset[str] | None = None  # None: every source
    # Prescriptions no longer active stay listed this many months after they ended; 0:
    # active ones only.
    prescription_months: int = 0

    def allows(self, category: Category, action: Action) -> bool:
        """True when `action` on `category` is granted."""
        return category in (self.read if action is Action.READ else self.write)


def strs(value: Any, key: str) -> frozenset[str]:
    """A list of names."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f'{key} must be a list of category names or "*"')
    return frozenset(value)


def categories(value: Any, key: str, known: frozenset[Category]) -> frozenset[Category]:
    """A list of category names (or "*" for every one of `known`), each one of `known`."""
    if value == "*":
        return known
    unknown = sorted(set(strs(value, key)) - known)
    if unknown:
        raise PolicyError(f"{key} names unknown categories: {', '.join(unknown)}")
    return frozenset(Category(v) for v in value)


def category_table(section: Mapping[str, Any]) -> tuple[frozenset[Category], frozenset[Category]]:
    """Every category, and those that are not health data, from the policy file's
    `[categories]`: each `Category` listed once with `health = true` or `false`; an
    unknown name and a missing `Category` are errors naming them."""
    for name, spec in section.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("health"), bool):
            raise PolicyError(f"categories.{name}.health must be true or false")
    unknown = sorted(set(section) - set(Category))
    if unknown:
        raise PolicyError(f"categories names unknown categories: {', '.join(unknown)}")
    missing = sorted(set(Category) - set(section))
    if missing:
        raise PolicyError(f"categories lacks {', '.join(missing)}: list every category once")
    non_health = frozenset(Category(n) for n, spec in section.items() if spec["health"] is False)
    return frozenset(Category), non_health


def integer(table: Mapping[str, Any], key: str, path: str) -> int:
    """A non-negative integer at `path.key`."""
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PolicyError(f"{path}.{key} must be a non-negative integer")
    return value


def string(table: Mapping[str, Any], key: str, path: str) -> str:
    """A non-empty string at `path.key`."""
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise PolicyError(f"{path}.{key} must be a non-empty string")
    return value


def reason(spec: Mapping[str, Any], path: str) -> str:
    """The reason code at `path.reason` (`authz.codes`): a denial records it."""
    value = spec.get("reason")
    if not is_reason_code(value):
        raise PolicyError(f"{path}.reason must be a reason code such as CHILD_12_15")
    return str(value)


def table(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    """The TOML table at `path + key`."""
    value = parent.get(key)
    if not isinstance(value, dict):
        raise PolicyError(f"{path}{key} must be a table")
    return value


def grant(name: str, spec: Any, path: str, known: frozenset[Category]) -> Grant:
    """One grant from its table at `path`."""
    if not isinstance(spec, dict):
        raise PolicyError(f"{path} must be a table")
    past = spec.get("past_appointments", True)
    if not isinstance(past, bool):
        raise PolicyError(f"{path}.past_appointments must be true or false")
    return Grant(
        name=name,
        read=categories(spec.get("read"), f"{path}.read", known),
        write=categories(spec.get("write"), f"{path}.write", known),
        reason=reason(spec, path),
        past_appointments=past,
        from_age=integer(spec, "from_age", path) if "from_age" in spec else 0,
        to_age=integer(spec, "to_age", path) if "to_age" in spec else 200,
        message_recipients=_kinds(spec, "message_recipients", path, COUNTERPART_KINDS),
        messages_with=_kinds(spec, "messages_with", path, COUNTERPART_KINDS),
        prescription_sources=_kinds(spec, "prescription_sources", path, PRESCRIPTION_SOURCES),
        prescription_months=(
            integer(spec, "prescription_months", path) if "prescription_months" in spec else 0
        ),
    )


def union(grants: list[Grant]) -> Grant:
    """Everything any of `grants` allows (a power of attorney over several areas)."""
    return Grant(
        name="+".join(g.name for g in grants),
        read=frozenset().union(*(g.read for g in grants)),
        write=frozenset().union(*(g.write for g in grants)),
        reason=grants[0].reason,
        past_appointments=any(g.past_appointments for g in grants),
        message_recipients=_widest([g.message_recipients for g in grants]),
        messages_with=_widest([g.messages_with for g in grants]),
        prescription_sources=_widest([g.prescription_sources for g in grants]),
        prescription_months=max(g.prescription_months for g in grants),
    )


def _widest(kinds: list[frozenset[str] | None]) -> frozenset[str] | None:
    if any(k is None for k in kinds):
        return None
    return frozenset().union(*(k for k in kinds if k is not None))


def _kinds(
    spec: Mapping[str, Any], key: str, path: str, known: frozenset[str]
) -> frozenset[str] | None:
    if key not in spec:
        return None
    kinds = strs(spec[key], f"{path}.{key}")
    if not kinds <= known:
        raise PolicyError(f"{path}.{key}: one of {', '.join(sorted(known))}")
    return kinds
