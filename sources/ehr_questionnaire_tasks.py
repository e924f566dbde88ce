"""Questionnaires assigned to the patient in the EHR (questionnaire Tasks with their forms
and answers), and answering one: the answers stored once per key, the task completed."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING

from sources import fhir
from sources.ehr_questionnaires import Assigned, NewAnswer
from sources.errors import UpstreamBadResponse, UpstreamConflict
from sources.fhir import query
from sources.fhir_questionnaires import TASK_CODE, assigned, form, response, response_resource

if TYPE_CHECKING:
    from sources.ehr import EhrClient


class EhrQuestionnaires:
    """Questionnaires assigned to the patient in the EHR, and their answers."""

    def __init__(self, ehr: EhrClient) -> None:
        self._ehr = ehr

    async def of(self, patient_id: str) -> list[Assigned]:
        """Every questionnaire assigned to the patient (one batch: tasks with their forms
        included, and the patient's answers)."""
        tasks, answers = await asyncio.gather(
            self._ehr.search(
                query(
                    "Task",
                    patient=patient_id,
                    code=TASK_CODE,
                    _include="Task:focus",
                    _count="200",
                )
            ),
            self._ehr.search(query("QuestionnaireResponse", patient=patient_id, _count="200")),
        )
        forms = {f.id: f for f in map(form, fhir.bundle_resources(tasks, mode="include"))}
        responses = {r.id: r for r in map(response, self._ehr.own(answers, patient_id))}
        return [assigned(t, forms, responses) for t in self._ehr.own(tasks, patient_id)]

    async def answer(
        self,
        patient_id: str,
        item: Assigned,
        answers: list[NewAnswer],
        *,
        idempotency: str,
        now: dt.datetime,
    ) -> Assigned:
        """Store the answers (in form order) once per key and complete the task.

        A retry finds the response created the first time (conditional create) and a task
        already completed with it.
        """
        created = await self._ehr.create(
            response_resource(patient_id, item, answers, now), patient_id, idempotency=idempotency
        )
        task = await self._complete_task(patient_id, item.id, created)
        return assigned(task, {item.form.id: item.form}, {str(created["id"]): response(created)})

    async def _complete_task(self, patient_id: str, task_id: str, created: fhir.Json) -> fhir.Json:
        """The task, completed with the `created` response unless it already was (a retry);
        `UpstreamConflict` when it was completed with other answers."""
        task = await self._ehr.read("Task", task_id)
        if task is None:
            raise UpstreamBadResponse("EHR", "read Task", "the task is gone")
        if task.get("status") == "requested":
            output = {
                "type": {
                    "coding": [
                        {"system": TASK_CODE.split("|")[0], "code": "questionnaire-response"}
                    ]
                },
                "valueReference": {"reference": f"QuestionnaireResponse/{created['id']}"},
            }
            task = await self._ehr.update(
                {**task, "status": "completed", "output": [output]}, patient_id
            )
        answered_by = [
            fhir.ref_id(o.get("valueReference"), "QuestionnaireResponse")
            for o in task.get("output", ())
        ]
        if str(created["id"]) not in answered_by:
            raise UpstreamConflict("EHR", "update Task", "answered with other answers")
        return task
