"""Reading the access policy file (`policy.toml`): every section validated at start-up, in
file order, into the settings the policy's questions are answered from (`authz.policy`).

Pure but for reading the file in `PolicyFile.load`; the tables are read by `authz.grants`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

from authz.grants import (
    PolicyError,
    category_table,
    grant,
    integer,
    reason,
    string,
    strs,
    table,
)

DEFAULT_POLICY = Path(__file__).with_name("policy.toml")
NO_BASIS = "NO_ACCESS_BASIS"  # the reason without a basis (also the own grant's refusal)


class PolicyFile:
    """The policy file's settings, validated; `authz.policy.Policy` asks its questions."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        """Validate `raw` (a parsed policy file) section by section, in file order;
        `PolicyError` names the first setting that is wrong."""
        if raw.get("version") != 1:
            raise PolicyError("version must be 1")
        self._read_categories(raw)
        self._read_labels(raw)
        self._read_own(raw)
        self._read_parent(raw)
        self._read_proxy(raw)
        self._read_partner(raw)
        self._read_analyst(raw)

    def _read_categories(self, raw: Mapping[str, Any]) -> None:
        """The categories of data (every `Category`), each saying whether it is health data."""
        self.categories, self.non_health = category_table(table(raw, "categories", ""))

    def _read_labels(self, raw: Mapping[str, Any]) -> None:
        """The high assurance level, the security labels and the release delay."""
        self.high_acr = string(table(raw, "assurance", ""), "high", "assurance")
        labels = table(raw, "labels", "")
        self.restricted_confidentiality = strs(
            labels.get("restricted_confidentiality"), "labels.restricted_confidentiality"
        )
        self.sensitive = strs(labels.get("sensitive"), "labels.sensitive")
        self.release_delay_days = integer(table(raw, "release", ""), "delay_days", "release")

    def _read_own(self, raw: Mapping[str, Any]) -> None:
        """The grants of a person acting for themself: as an adult (SELF), as a youth."""
        own = table(raw, "self", "")
        self.self_min_age = integer(own, "min_age", "self")
        self.own = grant("self", {**own, "reason": NO_BASIS}, "self", self.categories)
        youth = table(raw, "youth", "")
        for key in ("from_age", "to_age"):  # a band open at either end would admit anyone
            if key not in youth:
                raise PolicyError(f"youth.{key} is required")
        self.youth = grant("youth", youth, "youth", self.categories)
        consent = youth.get("requires_consent")
        if not isinstance(consent, bool):  # unread, a youth basis would need no consent
            raise PolicyError("youth.requires_consent must be true or false")
        self.youth_requires_consent = consent
        sees = youth.get("sees_guardian_messages", False)
        if not isinstance(sees, bool):
            raise PolicyError("youth.sees_guardian_messages must be true or false")
        self.youth_sees_guardian_messages = sees

    def _read_parent(self, raw: Mapping[str, Any]) -> None:
        """The parent's grants, one per age band, the bands covering every child's age."""
        parent = table(raw, "parent", "")
        self.parent_ends_at = integer(parent, "ends_at_age", "parent")
        bands = parent.get("bands")
        if not isinstance(bands, list) or not bands:
            raise PolicyError("parent.bands must list at least one band")
        self.parent_bands = tuple(
            grant(string(b, "name", f"parent.bands[{n}]"), b, f"parent.bands[{n}]", self.categories)
            for n, b in enumerate(bands)
        )
        self._check_bands()

    def _read_proxy(self, raw: Mapping[str, Any]) -> None:
        """The proxy's ages, and its grants by power-of-attorney kind or service area."""
        proxy = table(raw, "proxy", "")
        self.proxy_holder_min_age = integer(proxy, "holder_min_age", "proxy")
        self.proxy_grantor_min_age = integer(proxy, "grantor_min_age", "proxy")
        self.proxy_kinds = {
            name: grant(name, spec, f"proxy.kinds.{name}", self.categories)
            for name, spec in table(proxy, "kinds", "proxy.").items()
        }
        self.proxy_areas = {
            int(name): grant(f"area {name}", spec, f"proxy.areas.{name}", self.categories)
            for name, spec in table(proxy, "areas", "proxy.").items()
            if name.isdigit() or _raise(f"proxy.areas.{name} must be a service-area number")
        }

    def _read_partner(self, raw: Mapping[str, Any]) -> None:
        """A partner's scope prefix, and its reason when refused."""
        partner = table(raw, "partner", "")
        self.partner_prefix = string(partner, "scope_prefix", "partner")
        self.partner_reason = reason(partner, "partner")

    def _read_analyst(self, raw: Mapping[str, Any]) -> None:
        """The analyst's scope and smallest cell."""
        analyst = table(raw, "analyst", "")
        self.analyst_scope = string(analyst, "scope", "analyst")
        self.analyst_min_cell = integer(analyst, "min_cell", "analyst")
        if self.analyst_min_cell < 1:
            raise PolicyError("analyst.min_cell must be at least 1")

    def _check_bands(self) -> None:
        expected = 0
        for band in sorted(self.parent_bands, key=lambda b: b.from_age):
            if band.from_age != expected or band.to_age < band.from_age:
                raise PolicyError(f"parent.bands: band {band.name!r} leaves a gap or overlaps")
            expected = band.to_age + 1
        if expected != self.parent_ends_at:
            raise PolicyError("parent.bands must cover every age below parent.ends_at_age")

    @classmethod
    def load(cls, path: Path = DEFAULT_POLICY) -> Self:
        """Read and validate a policy file."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PolicyError(f"cannot read policy file {path.name}: {exc}") from exc
        return cls(raw)


def _raise(message: str) -> bool:
    raise PolicyError(message)
