"""Reason codes: why an access was refused, as records keep them and frontends translate
them. A code, never prose: the gateway's are upper-case, and a policy file may name its
own in the same form (checked when the policy is loaded, not when a refusal is recorded)."""

from __future__ import annotations

import re

REASON_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


def is_reason_code(value: object) -> bool:
    """True when `value` is a reason code."""
    return isinstance(value, str) and REASON_CODE.fullmatch(value) is not None
