"""Where a person's municipal data lives: the municipality's own API or the shared EHR.

Some municipalities run their health services on the shared EHR (Helseplattformen):
their residents' municipal appointments (and messages) are records in the EHR, kept
by a municipal organisation, while the old municipal API may still mirror them. The
gateway routes by the person's registered municipality, so nothing is shown twice:

    route = await municipal_route(info, subject)
    if route.shared_ehr: read the EHR (category municipal_*), never the municipal API
    elif route.api: read the municipal API of route.municipality
"""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.types import Info

from resolvers.core.access import Subject
from resolvers.core.context import Context


def on_shared_ehr(info: Info[Context, None], municipality: str | None) -> bool:
    """True when `municipality` runs its health services on the shared EHR
    (`HELSEGRAF_SHARED_EHR_MUNICIPALITIES`)."""
    return info.context.municipal.on_shared_ehr(municipality)


@dataclass(frozen=True, slots=True)
class MunicipalRoute:
    """Where the subject's municipal data comes from."""

    municipality: str | None  # the registered municipality code, when known
    shared_ehr: bool  # True: read the EHR, never the municipal API
    api: bool  # True: read the municipality's own API (configured, not on the shared EHR)


async def municipal_route(info: Info[Context, None], subject: Subject) -> MunicipalRoute:
    """The subject's registered municipality and where its data is read from."""
    facts = await info.context.national.persons.load(subject.nin)
    code = facts.municipality if facts is not None else None
    shared = on_shared_ehr(info, code)
    api = not shared and info.context.municipal.serves(code)
    return MunicipalRoute(municipality=code, shared_ehr=shared, api=api)
