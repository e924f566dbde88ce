"""Adding a medicine to the list (patient-reported) and commenting on one."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from authz.policy import Action
from resolvers.core.context import Context
from resolvers.core.errors import Forbidden
from resolvers.core.guard import served
from resolvers.core.i18n import add_texts
from resolvers.core.node import own_entity, refused_item
from resolvers.core.writes import UserError, acting, check_key, check_text, once, user_error
from resolvers.medications.medications import (
    CATEGORY,
    Medication,
    find_medication,
    merge_medications,
)
from sources.ehr_medications import EhrMedicationEntry
from sources.errors import UpstreamConflict, UpstreamRejected

MAX_NAME = 200
MAX_STRENGTH = 50
MAX_DETAIL = 500
MAX_COMMENT = 2000

add_texts(
    {
        "error.MEDICATION_NOT_IN_RECORD": {
            "nb": "Du kan bare kommentere legemidler som står i journalen.",
            "nn": "Du kan berre kommentere legemiddel som står i journalen.",
            "en": "Only medicines in the health record can be commented on.",
        },
        "error.MEDICATION_CHANGED": {
            "nb": "Legemiddelet ble endret samtidig. Prøv igjen.",
            "nn": "Legemiddelet vart endra samtidig. Prøv igjen.",
            "en": "The medicine was changed at the same time. Please try again.",
        },
        "error.DATE_IN_FUTURE": {
            "nb": "Datoen kan ikke være frem i tid.",
            "nn": "Datoen kan ikkje vere fram i tid.",
            "en": "The date cannot be in the future.",
        },
    }
)


@strawberry.input(description="A medicine the person uses that is missing from the list.")
class AddMedicationInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose list: the viewer, or someone they act for."
    )
    name: str = strawberry.field(description="The medicine's name (1-200 characters).")
    strength: str | None = strawberry.field(
        default=None, description="Strength, e.g. '500 mg' (up to 50 characters)."
    )
    dosage: str | None = strawberry.field(
        default=None, description="How it is taken (up to 500 characters)."
    )
    reason: str | None = strawberry.field(
        default=None, description="What it is taken for (up to 500 characters)."
    )
    started_on: dt.date | None = strawberry.field(
        default=None, description="When use started (not in the future)."
    )
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result and adds nothing twice."
    )


@strawberry.type(description="The outcome of adding a medicine.")
class AddMedicationPayload:
    medication: Medication | None = strawberry.field(
        description="The medicine as added: origin REPORTED_BY_PATIENT, UNCONFIRMED."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was not added.")


@strawberry.input(description="A comment on a medicine on the list.")
class CommentOnMedicationInput:
    person_id: strawberry.ID = strawberry.field(
        description="Whose list: the viewer, or someone they act for."
    )
    medication_id: strawberry.ID = strawberry.field(
        description="The medicine (a `Medication.id`) that is in the health record."
    )
    text: str = strawberry.field(description="The comment (1-2000 characters).")
    idempotency_key: str = strawberry.field(
        description="A client-chosen key (8-128 characters); a retry with the same key and "
        "input returns the first result and comments nothing twice."
    )


@strawberry.type(description="The outcome of commenting on a medicine.")
class CommentOnMedicationPayload:
    medication: Medication | None = strawberry.field(
        description="The medicine with the new comment."
    )
    user_errors: list[UserError] = strawberry.field(description="Why it was not saved.")


def _validate_add(info: Info[Context, None], data: AddMedicationInput) -> list[UserError]:
    errors = [
        *check_key(info, data.idempotency_key),
        *check_text(info, "name", data.name, limit=MAX_NAME),
        *check_text(info, "strength", data.strength, limit=MAX_STRENGTH, required=False),
        *check_text(info, "dosage", data.dosage, limit=MAX_DETAIL, required=False),
        *check_text(info, "reason", data.reason, limit=MAX_DETAIL, required=False),
    ]
    if data.started_on is not None and data.started_on > info.context.now.date():
        errors.append(user_error(info, "startedOn", "DATE_IN_FUTURE"))
    return errors


class _Gone(Exception):
    """The statement is no longer this patient's (or no longer there)."""


def _clean(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


async def add_medication(
    info: Info[Context, None], data: AddMedicationInput
) -> AddMedicationPayload:
    """Add a patient-reported medicine to the person's list in the health record."""
    ctx = info.context
    errors = _validate_add(info, data)
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied or errors:
        return AddMedicationPayload(medication=None, user_errors=[*errors, *denied])
    name = " ".join(p for p in (_clean(data.name), _clean(data.strength)) if p)
    dosage, reason = _clean(data.dosage), _clean(data.reason)

    async def create(scoped: str) -> EhrMedicationEntry:
        patient = await ctx.ehr.patient_id(subject.nin)
        if patient is None:
            raise Forbidden()
        return await ctx.ehr.medications.add_medication(
            patient,
            name=name,
            dosage=dosage,
            reason=reason,
            started_on=data.started_on,
            idempotency=scoped,
        )

    parts = (name, dosage, reason, data.started_on)
    entry = await once(info, subject, data.idempotency_key, parts, create, category=CATEGORY)
    if isinstance(entry, UserError):
        return AddMedicationPayload(medication=None, user_errors=[entry])
    served(info.context, subject, CATEGORY, (f"EHR/MedicationStatement/{entry.id}",), Action.WRITE)
    (medication,) = merge_medications(subject, [entry])
    return AddMedicationPayload(medication=medication, user_errors=[])


async def comment_on_medication(
    info: Info[Context, None], data: CommentOnMedicationInput
) -> CommentOnMedicationPayload:
    """Add the person's comment to a medicine in the health record."""
    ctx = info.context
    errors = [
        *check_key(info, data.idempotency_key),
        *check_text(info, "text", data.text, limit=MAX_COMMENT),
    ]
    subject, denied = await acting(info, data.person_id, CATEGORY)
    if subject is None or denied or errors:
        return _not_commented([*errors, *denied])
    owned = own_entity(info, subject, data.medication_id, "Medication")
    if owned is None:
        return _not_commented([user_error(info, "medicationId", "INVALID")])
    found = await find_medication(info, subject, *owned)
    if found is None:
        refused_item(info, subject, data.medication_id)
        return _not_commented([user_error(info, "medicationId", "INVALID")])
    statement = next((e for e in found.entries if isinstance(e, EhrMedicationEntry)), None)
    if statement is None:
        return _not_commented([user_error(info, "medicationId", "MEDICATION_NOT_IN_RECORD")])
    text = data.text.strip()
    # failures are not remembered under the key: the same key may be tried again
    try:
        result = await once(
            info,
            subject,
            data.idempotency_key,
            (statement.id, text),
            lambda scoped: _comment(ctx, subject.nin, statement.id, text, scoped),
            category=CATEGORY,
        )
    except (UpstreamConflict, UpstreamRejected, _Gone) as exc:
        result = _comment_refused(info, exc)
    if isinstance(result, UserError):
        return _not_commented([result])
    served(info.context, subject, CATEGORY, (f"EHR/MedicationStatement/{result.id}",), Action.WRITE)
    entries = [result if e.id == result.id else e for e in found.entries]
    return CommentOnMedicationPayload(
        medication=Medication(entries=entries, subject=subject), user_errors=[]
    )


def _not_commented(errors: list[UserError]) -> CommentOnMedicationPayload:
    return CommentOnMedicationPayload(medication=None, user_errors=errors)


async def _comment(
    ctx: Context, nin: str, statement_id: str, text: str, scoped: str
) -> EhrMedicationEntry:
    """Write the comment to the statement in the EHR, once per `scoped` key; `_Gone` when
    the statement is no longer the patient's."""
    patient = await ctx.ehr.patient_id(nin)
    if patient is None:
        raise Forbidden()
    updated = await ctx.ehr.medications.comment(patient, statement_id, text, idempotency=scoped)
    if updated is None:
        raise _Gone()
    return updated


def _comment_refused(
    info: Info[Context, None], exc: UpstreamConflict | UpstreamRejected | _Gone
) -> UserError:
    """What the person is told when the EHR did not take the comment."""
    if isinstance(exc, UpstreamConflict):  # the statement changed meanwhile
        return user_error(info, "medicationId", "MEDICATION_CHANGED")
    if isinstance(exc, UpstreamRejected):  # the EHR refused the text as it stands
        return user_error(info, "text", "INVALID")
    return user_error(info, "medicationId", "INVALID")


@strawberry.type(description="Changes to the medication list.")
class MedicationMutations:
    @strawberry.mutation(
        description="Add a medicine the person uses that is missing from the list; it shows "
        "as reported by the patient and unconfirmed until a clinician confirms it. Needs "
        "the `prescriptions` write permission (the person, a full power of attorney)."
    )
    async def add_medication(
        self, info: Info[Context, None], input: AddMedicationInput
    ) -> AddMedicationPayload:
        return await add_medication(info, input)

    @strawberry.mutation(
        description="Comment on a medicine in the health record (e.g. 'I take it in the "
        "evening'); the comment is stored with the medicine for the clinicians. Needs the "
        "`prescriptions` write permission."
    )
    async def comment_on_medication(
        self, info: Info[Context, None], input: CommentOnMedicationInput
    ) -> CommentOnMedicationPayload:
        return await comment_on_medication(info, input)
