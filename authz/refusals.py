"""Why an attempt to reach a person or an item was refused: the reason codes the audit
trail records, and which of them the registry facts support. Pure and synchronous.

The caller's answer never changes with the reason (one FORBIDDEN, one 404, whatever the
cause); only the audit record tells them apart.

Reaching a person (an id of someone the viewer does not act for):

- `NO_RELATION`: the registry shows no parental responsibility and no power of attorney
  between them (or a partner's token, which acts for its citizen only).
- `MANDATE_EXPIRED`: a power of attorney from that person whose period has ended (a
  revoked one ends early).
- `MANDATE_NOT_YET_VALID`: a power of attorney from that person not yet in force.
- `MANDATE_NOT_GRANTED`: a power of attorney in its period that the rules refuse
  (confidential address, ages, death, a kind the policy grants nothing for).
- `PARENTAL_ACCESS_ENDED`: parental responsibility for a child who has turned 16.
- `PARENTAL_ACCESS_NOT_GRANTED`: parental responsibility the rules refuse (address,
  confidentiality, living abroad, death).
- `LOGIN_LEVEL_TOO_LOW`: below the high login level a citizen acts for no one else.
- `NO_ACCESS_BASIS`: the viewer's own id, but no basis for the viewer themself (an
  analyst, a child without youth access).
- `REGISTRY_UNAVAILABLE`: the registry facts a basis needs could not be read (the
  national portal failed): no basis is assumed, so no one is reached (fail closed). The
  caller gets the upstream's error, the same for whoever the id named.

Reaching an item (an id sent to `node(id:)`, a mutation or a download):

- `MALFORMED_ID`: not an id the gateway wrote.
- `WRONG_ID_TYPE`: one of ours, of another type or source than the argument takes.
- `ID_OF_ANOTHER_PERSON`: an item id read through someone else than the person acted for.
- `ITEM_UNAVAILABLE`: a well-formed id of the person whose item is not there or is hidden
  from this basis (the two are not told apart, here either).

Category refusals record the policy's own reason (`authz/policy.toml`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from authz.facts import PersonFacts, PowerOfAttorney
from authz.identity import InvalidNationalId, parse_national_id
from authz.policy import LOW_ASSURANCE, Policy
from authz.policy_file import NO_BASIS
from authz.relations import age_on

NO_RELATION = "NO_RELATION"
MANDATE_EXPIRED = "MANDATE_EXPIRED"
MANDATE_NOT_YET_VALID = "MANDATE_NOT_YET_VALID"
MANDATE_NOT_GRANTED = "MANDATE_NOT_GRANTED"
PARENTAL_ACCESS_ENDED = "PARENTAL_ACCESS_ENDED"
PARENTAL_ACCESS_NOT_GRANTED = "PARENTAL_ACCESS_NOT_GRANTED"
LOGIN_LEVEL_TOO_LOW = LOW_ASSURANCE
NO_ACCESS_BASIS = NO_BASIS
REGISTRY_UNAVAILABLE = "REGISTRY_UNAVAILABLE"

MALFORMED_ID = "MALFORMED_ID"
WRONG_ID_TYPE = "WRONG_ID_TYPE"
ID_OF_ANOTHER_PERSON = "ID_OF_ANOTHER_PERSON"
ITEM_UNAVAILABLE = "ITEM_UNAVAILABLE"


def _mandate(powers: Sequence[PowerOfAttorney], today: dt.date) -> str:
    """The reason for powers of attorney from one grantor, none of which lets the holder
    act: one in its period that the rules refuse says most, then one still to come."""
    if any(p.valid_from <= today and (p.valid_to is None or p.valid_to >= today) for p in powers):
        return MANDATE_NOT_GRANTED
    if any(p.valid_from > today for p in powers):
        return MANDATE_NOT_YET_VALID
    return MANDATE_EXPIRED


def _parental(policy: Policy, child: str, today: dt.date) -> str:
    try:
        born = parse_national_id(child).birth_date
    except InvalidNationalId:
        return PARENTAL_ACCESS_NOT_GRANTED
    if age_on(born, today) >= policy.parent_ends_at:
        return PARENTAL_ACCESS_ENDED
    return PARENTAL_ACCESS_NOT_GRANTED


def person_refusal(
    policy: Policy,
    viewer: PersonFacts | None,
    powers: Sequence[PowerOfAttorney],
    today: dt.date,
    is_target: Callable[[str], bool],
) -> tuple[str, str | None]:
    """Why a viewer with these registry facts may not act for the person `is_target`
    recognises (by national id), given that no relation allows it today: the reason, and
    that person's national id when the registry names them (else None: the record then
    keeps the key the id carried, never a national id found some other way)."""
    if viewer is not None:
        for child in viewer.children:
            if is_target(child):
                return _parental(policy, child, today), child
    granted = [p for p in powers if is_target(p.grantor)]
    if granted:
        return _mandate(granted, today), granted[0].grantor
    return NO_RELATION, None
