"""OperationOutcome errors: one exception type, rendered the same way everywhere.

Diagnostics name the offending parameter or resource type but never echo a value the
client sent, since values may be identity numbers or other personal data.
"""

from __future__ import annotations

import re
from http import HTTPStatus

from mocks.fhir.model import Resource

# Names only: no four digits in a row, so an identity number cannot pass as one.
_SAFE_NAME = re.compile(r"(?!.*\d{4})[A-Za-z0-9_:.\-]{1,64}")


class FhirError(Exception):
    """A request the server refuses, with the HTTP status and FHIR issue code to send."""

    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics

    @property
    def outcome(self) -> Resource:
        """This error as an OperationOutcome resource."""
        return operation_outcome(self.code, self.diagnostics)


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> Resource:
    """An OperationOutcome with one issue."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def status_line(status: int) -> str:
    """`404 Not Found`, as Bundle.entry.response.status spells it."""
    return f"{status} {HTTPStatus(status).phrase}"


def safe_name(name: str) -> str:
    """A parameter or type name fit for diagnostics: shown if name-like, else withheld."""
    return name if _SAFE_NAME.fullmatch(name) else "(unprintable name)"


def invalid(param: str, why: str) -> FhirError:
    """400 for a malformed parameter value."""
    return FhirError(
        400, "invalid", f"Invalid value for search parameter '{safe_name(param)}': {why}"
    )


def not_found(type_: str) -> FhirError:
    """404 for an unknown id of a known type (the id itself is not echoed)."""
    return FhirError(404, "not-found", f"No {type_} with the requested id is known")


def unsupported_type(type_: str) -> FhirError:
    """404 for a resource type this server does not serve."""
    return FhirError(404, "not-supported", f"Resource type '{safe_name(type_)}' is not supported")
