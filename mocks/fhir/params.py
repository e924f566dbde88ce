"""What the server serves: resource types, their search parameters, includes and sorts.

The one table both the search parser and the CapabilityStatement read, so the two
cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mocks.fhir.model import PATIENT_READ_PARAM_URL


@dataclass(frozen=True, slots=True)
class ParamDef:
    """One search parameter: its name, FHIR type (token, date, reference) and meaning."""

    name: str
    kind: str
    doc: str
    definition: str | None = None  # canonical SearchParameter url for custom parameters


@dataclass(frozen=True, slots=True)
class TypeDef:
    """One resource type the server serves."""

    name: str
    params: tuple[ParamDef, ...] = ()
    includes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # param -> targets
    sorts: tuple[str, ...] = ()  # date parameters `_sort` accepts
    compartment: bool = True  # searches must name a patient (or ids)
    searchable: bool = True
    creatable: bool = False  # POST /{type} creates one

    def param(self, name: str) -> ParamDef | None:
        """The parameter called `name`, if this type has it."""
        for param in (ID, *self.params):
            if param.name == name:
                return param
        return None


ID = ParamDef("_id", "token", "Logical id; a comma list matches any of them")
PATIENT = ParamDef("patient", "reference", "The patient (Patient/{id} or a bare id)")
SUBJECT = ParamDef("subject", "reference", "The subject; only Patient subjects are held")
STATUS = ParamDef("status", "token", "Status code; a comma list matches any")
CATEGORY = ParamDef("category", "token", "Category as system|code or code")
DATE = ParamDef(
    "date", "date", "Clinically relevant date, with prefixes eq ne lt gt le ge sa eb ap"
)
PATIENT_READ = ParamDef(
    "patient-read",
    "token",
    "Whether the patient has read the message (true|false), from the patient-read extension",
    PATIENT_READ_PARAM_URL,
)
TO_PATIENT = {"patient": ("Patient",)}

TYPES: dict[str, TypeDef] = {
    t.name: t
    for t in (
        TypeDef(
            "Patient",
            (
                ParamDef("identifier", "token", "National identity number as system|value"),
                ParamDef("gender", "token", "Administrative gender"),
                ParamDef("birthdate", "date", "Date of birth"),
            ),
            sorts=("birthdate",),
        ),
        TypeDef("Practitioner", compartment=False),
        TypeDef("Location", compartment=False),
        TypeDef(
            "Appointment",
            (
                PATIENT,
                DATE,
                STATUS,
                ParamDef("actor", "reference", "Any participant (Patient, Practitioner, Location)"),
                ParamDef("practitioner", "reference", "The Practitioner participant"),
                ParamDef("location", "reference", "The Location participant"),
                ParamDef("slot", "reference", "The Slot the appointment was booked in"),
            ),
            # `actor` includes the Practitioner and Location, not the Patient searched for.
            {
                "actor": ("Practitioner", "Location"),
                "practitioner": ("Practitioner",),
                "location": ("Location",),
                "slot": ("Slot",),
                **TO_PATIENT,
            },
            sorts=("date",),
            creatable=True,
        ),
        TypeDef(
            "AppointmentResponse",
            (
                PATIENT,
                ParamDef("appointment", "reference", "The Appointment responded to"),
                ParamDef("part-status", "token", "accepted | declined | tentative"),
            ),
            {"appointment": ("Appointment",), **TO_PATIENT},
            creatable=True,
        ),
        TypeDef(
            "Schedule",
            (
                ParamDef("actor", "reference", "The Location or Practitioner of the calendar"),
                ParamDef("service-type", "token", "The bookable service, system|code or code"),
                ParamDef("active", "token", "true when open for booking"),
            ),
            {"actor": ("Practitioner", "Location")},
            compartment=False,
        ),
        TypeDef(
            "Slot",
            (
                ParamDef("schedule", "reference", "The Schedule the slot belongs to"),
                STATUS,
                ParamDef("start", "date", "When the slot starts"),
                ParamDef("service-type", "token", "The bookable service, system|code or code"),
            ),
            {"schedule": ("Schedule",)},
            sorts=("start",),
            compartment=False,
        ),
        TypeDef(
            "Communication",
            (
                PATIENT,
                SUBJECT,
                ParamDef("sent", "date", "When the message was sent"),
                ParamDef("date", "date", "Alias of sent"),
                STATUS,
                ParamDef("sender", "reference", "Who sent the message"),
                ParamDef("recipient", "reference", "Who received the message"),
                PATIENT_READ,
            ),
            {
                "sender": ("Practitioner", "Patient"),
                "recipient": ("Practitioner", "Patient"),
                "subject": ("Patient",),
                **TO_PATIENT,
            },
            sorts=("date", "sent"),
            creatable=True,
        ),
        TypeDef(
            "Observation",
            (
                *(PATIENT, SUBJECT, DATE, STATUS, CATEGORY),
                ParamDef("code", "token", "LOINC code"),
                ParamDef("based-on", "reference", "The CarePlan a measurement was made for"),
            ),
            {"subject": ("Patient",), **TO_PATIENT},
            sorts=("date",),
            creatable=True,
        ),
        TypeDef(
            "DiagnosticReport",
            (
                PATIENT,
                SUBJECT,
                DATE,
                STATUS,
                CATEGORY,
                ParamDef("code", "token", "Report code (LOINC)"),
                ParamDef("result", "reference", "An Observation in the report"),
            ),
            {"result": ("Observation",), "subject": ("Patient",), **TO_PATIENT},
            sorts=("date",),
        ),
        TypeDef(
            "MedicationStatement",
            (
                PATIENT,
                SUBJECT,
                ParamDef("effective", "date", "When the medicine is or was taken"),
                STATUS,
                ParamDef("code", "token", "ATC code"),
            ),
            {"subject": ("Patient",), **TO_PATIENT},
            sorts=("effective",),
            creatable=True,
        ),
        TypeDef("Immunization", (PATIENT, DATE, STATUS), TO_PATIENT, sorts=("date",)),
        TypeDef(
            "DocumentReference",
            (
                PATIENT,
                SUBJECT,
                DATE,
                STATUS,
                CATEGORY,
                ParamDef("related", "reference", "The Appointment the document belongs to"),
            ),
            {"related": ("Appointment",), "subject": ("Patient",), **TO_PATIENT},
            sorts=("date",),
        ),
        TypeDef(
            "AuditEvent",
            (
                PATIENT,
                ParamDef("date", "date", "When the event was recorded"),
                ParamDef("action", "token", "Action code (C R U D E)"),
                ParamDef("type", "token", "Event type, e.g. DCM|110110"),
                ParamDef("agent", "reference", "Who acted (a Practitioner)"),
                ParamDef("entity", "reference", "What was accessed (the Patient)"),
            ),
            {"agent": ("Practitioner",), **TO_PATIENT},
            sorts=("date",),
        ),
        TypeDef(
            "ServiceRequest",
            (
                PATIENT,
                SUBJECT,
                STATUS,
                ParamDef("authored", "date", "When the referral was written (received)"),
                ParamDef("priority", "token", "routine | urgent | asap | stat"),
                ParamDef("requester", "reference", "Who referred (a Practitioner)"),
            ),
            {"requester": ("Practitioner",), "subject": ("Patient",), **TO_PATIENT},
            sorts=("authored",),
        ),
        TypeDef(
            "EpisodeOfCare",
            (
                PATIENT,
                STATUS,
                ParamDef("date", "date", "The episode's period"),
                ParamDef("incoming-referral", "reference", "The referral (ServiceRequest)"),
                ParamDef("type", "token", "Type of episode, e.g. SNOMED CT 77386006 pregnancy"),
            ),
            {"incoming-referral": ("ServiceRequest",), **TO_PATIENT},
            sorts=("date",),
        ),
        TypeDef(
            "CareTeam",
            (
                PATIENT,
                SUBJECT,
                STATUS,
                ParamDef("date", "date", "The team's period"),
                ParamDef("participant", "reference", "A member (a Practitioner)"),
            ),
            {"participant": ("Practitioner",), "subject": ("Patient",), **TO_PATIENT},
            sorts=("date",),
        ),
        TypeDef(
            "Task",
            (
                PATIENT,
                SUBJECT,
                STATUS,
                ParamDef("code", "token", "The kind of task, e.g. a journal-request code"),
                ParamDef("authored-on", "date", "When the task was created"),
                ParamDef("focus", "reference", "What the task is about, e.g. a Questionnaire"),
            ),
            {"subject": ("Patient",), "focus": ("Questionnaire",), **TO_PATIENT},
            sorts=("authored-on",),
            creatable=True,
        ),
        TypeDef(
            "Questionnaire",
            (STATUS,),
            compartment=False,
        ),
        TypeDef(
            "QuestionnaireResponse",
            (
                *(PATIENT, SUBJECT, STATUS),
                ParamDef("authored", "date", "When the answers were given"),
            ),
            {"subject": ("Patient",), **TO_PATIENT},
            sorts=("authored",),
            creatable=True,
        ),
        TypeDef(
            "CarePlan",
            (PATIENT, SUBJECT, STATUS, ParamDef("date", "date", "The plan's period")),
            {"subject": ("Patient",), **TO_PATIENT},
            sorts=("date",),
        ),
        TypeDef("Binary", searchable=False),
    )
}

# Result parameters every search accepts, besides the type's own.
CONTROL = frozenset(
    {
        "_count",
        "_page",
        "_sort",
        "_include",
        "_summary",
        "_elements",
        "_format",
        "_pretty",
        "_total",
    }
)
DEFAULT_COUNT = 50
MAX_COUNT = 200
PAGE_PARAM = "_page"
