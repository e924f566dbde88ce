"""A FHIR R4 REST mock of the EHR over the shared synthetic records (see `app.py`)."""

from mocks.fhir.app import create_fhir_app

__all__ = ["create_fhir_app"]
