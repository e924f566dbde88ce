"""Security labels in `meta.security`, the way FHIR servers carry them.

- confidentiality: `http://terminology.hl7.org/CodeSystem/v3-Confidentiality` N | R | V
- sensitivity: `http://terminology.hl7.org/CodeSystem/v3-ActCode` PSY, ETH, HIV, GDIS, SEX, ...
- portal visibility: `https://fhir.helsegraf.dev/CodeSystem/portal-visibility`
  `not-shown-electronically` (nobody sees it through the portal) and
  `kept-from-guardians` (a 12-15-year-old's item hidden from parents)

Unlabelled items carry no `meta.security` at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from mocks.fhir.model import PROFILE_BASE, Resource
from mocks.record_types import PLAIN, Labels

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PORTAL_VISIBILITY = PROFILE_BASE + "CodeSystem/portal-visibility"
NOT_SHOWN = "not-shown-electronically"
KEPT_FROM_GUARDIANS = "kept-from-guardians"
_CONFIDENTIALITY_NAMES = {"N": "normal", "R": "restricted", "V": "very restricted"}
_SENSITIVITY_NAMES = {
    "PSY": "psychiatry information sensitivity",
    "ETH": "substance abuse information sensitivity",
    "SUD": "substance use disorder information sensitivity",
    "HIV": "HIV/AIDS information sensitivity",
    "GDIS": "genetic disease information sensitivity",
    "SEX": "sexuality and reproductive health information sensitivity",
    "STD": "sexually transmitted disease information sensitivity",
}
_VISIBILITY_NAMES = {
    NOT_SHOWN: "Not shown electronically",
    KEPT_FROM_GUARDIANS: "Kept from guardians",
}


def security_codings(labels: Labels) -> list[Resource]:
    """The `meta.security` codings for `labels` (empty when unlabelled)."""
    out: list[Resource] = []
    if labels.confidentiality is not None:
        code = labels.confidentiality
        out.append(_coding(CONFIDENTIALITY, code, _CONFIDENTIALITY_NAMES.get(code)))
    for code in labels.sensitivity:
        out.append(_coding(ACT_CODE, code, _SENSITIVITY_NAMES.get(code)))
    if labels.not_shown_electronically:
        out.append(_coding(PORTAL_VISIBILITY, NOT_SHOWN, _VISIBILITY_NAMES[NOT_SHOWN]))
    if labels.kept_from_guardians:
        out.append(
            _coding(PORTAL_VISIBILITY, KEPT_FROM_GUARDIANS, _VISIBILITY_NAMES[KEPT_FROM_GUARDIANS])
        )
    return out


def _coding(system: str, code: str, display: str | None) -> Resource:
    out: Resource = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def labelled(meta: Resource, labels: Labels) -> Resource:
    """`meta` with `security` set from `labels` (unchanged when unlabelled)."""
    codings = security_codings(labels)
    return {**meta, "security": codings} if codings else meta


def combined(all_labels: Iterable[Labels]) -> Labels:
    """The labels of a container (a report) of items: the most restrictive of each kind."""
    order = {None: 0, "N": 1, "R": 2, "V": 3}
    result = PLAIN
    for labels in all_labels:
        conf = max(result.confidentiality, labels.confidentiality, key=lambda c: order.get(c, 3))
        result = Labels(
            confidentiality=conf,
            sensitivity=tuple(dict.fromkeys((*result.sensitivity, *labels.sensitivity))),
            not_shown_electronically=result.not_shown_electronically
            or labels.not_shown_electronically,
            kept_from_guardians=result.kept_from_guardians or labels.kept_from_guardians,
        )
    return result
