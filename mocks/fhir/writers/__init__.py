"""The per-type write checkers; importing this package registers every one of them."""

from mocks.fhir.writers import communication

__all__ = ["communication"]
