"""`Principal`: the authenticated caller, a plain fact value."""

from __future__ import annotations

import pytest

from authz.principal import Principal


def test_principal_is_a_frozen_value() -> None:
    principal = Principal("x", "idporten-loa-high", frozenset(), None, None)
    with pytest.raises(AttributeError):
        principal.acr = "other"  # type: ignore[misc]
