"""Read models: the frozen data the engine hands to the web layer and the CLI about cases and tasks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .case_path import CasePath
from .forms import FieldSpec, form_fields
from .inbox import TaskSummary
from .models import ProcessInstance
from .versions import LoadedVersion
from .vocabulary import PRIORITIES


@dataclass(frozen=True)
class CaseHeader:
    """Key facts of a case for headers and lists."""

    instance_id: int
    business_key: str | None
    process_id: str
    process_name: str
    version: int
    site: str
    status: str
    applicant_name: str | None
    claim_date: date | None
    created_at: datetime
    updated_at: datetime
    lock_version: int
    next_timer_at: datetime | None
    error_message: str | None


@dataclass(frozen=True)
class HistoryEntry:
    """One step in a case's history, from the audit trail."""

    occurred_at: datetime
    actor: str
    action: str
    task_name: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Deadline:
    """A waiting timer of a case."""

    name: str
    due_at: datetime


@dataclass(frozen=True)
class RelatedCase:
    """A case this one started by message, or the case that started this one."""

    instance_id: int
    business_key: str | None
    process_name: str
    status: str
    relation: str


@dataclass(frozen=True)
class CaseView:
    """Everything the case page shows."""

    header: CaseHeader
    open_tasks: list[TaskSummary]
    history: list[HistoryEntry]
    data: dict[str, Any]
    labels: dict[str, FieldSpec]
    path: CasePath | None = None
    deadlines: list[Deadline] = field(default_factory=list)
    related: list[RelatedCase] = field(default_factory=list)


@dataclass(frozen=True)
class NextTask:
    """A task open in the case after a step, and whether the one who did the step may work it."""

    task_uuid: str
    name: str
    lane: str
    site: str
    may_work: bool


@dataclass(frozen=True)
class Completion:
    """What completing a task gives back: the case as it is now and its open tasks (no second lookup), and
    whether the task was unclaimed and so taken by completing it."""

    header: CaseHeader
    next_tasks: list[NextTask]
    claimed_implicitly: bool = False


@dataclass(frozen=True)
class TaskView:
    """Everything the task page shows."""

    task_uuid: str
    name: str
    lane: str
    egs_role: str | None
    instructions: str
    form_key: str | None
    form_title: str
    fields: list[FieldSpec]
    assignee: str | None
    due_at: datetime | None
    header: CaseHeader
    data: dict[str, Any]
    labels: dict[str, FieldSpec]
    draft: dict[str, list[str]] | None = None
    draft_saved_at: datetime | None = None
    label: str | None = None  # which document etc. (model property egsLabel)


START_DATA_LABELS = {
    "vorgangsnummer": ("Vorgangsnummer", {"type": "string"}),
    "standort": ("Standort", {"type": "string"}),
    "gestartet_am": ("Vorgang begonnen am", {"type": "string", "format": "date"}),
    "bezugsvorgang": ("Bezugsvorgang", {"type": "string"}),
}


# Values leads change on a task (recorded as changes of the steering actions).
STEERING_LABELS = (
    FieldSpec(
        name="prioritaet",
        title="Priorität",
        type="integer",
        widget="select",
        required=False,
        options=tuple((str(code), title) for code, title in PRIORITIES.items()),
    ),
    FieldSpec(
        name="faellig",
        title="Fällig am",
        type="string",
        widget="datetime",
        required=False,
        schema={"type": "string", "format": "date-time"},
    ),  # fmt: skip
)


def labels_of(forms: Mapping[str, Any]) -> dict[str, FieldSpec]:
    """Field specs of all forms of a version by field name, plus the start data every case has and the values
    leads steer."""
    labels: dict[str, FieldSpec] = {
        name: FieldSpec(name=name, title=title, type="string", widget="text", required=False, schema=schema)
        for name, (title, schema) in START_DATA_LABELS.items()
    }
    labels.update({spec.name: spec for spec in STEERING_LABELS})
    for schema_ in forms.values():
        for spec in form_fields(schema_):
            labels.setdefault(spec.name, spec)
    return labels


def without(values: Mapping[str, Any], hidden: set[str]) -> dict[str, Any]:
    """A copy of ``values`` without the hidden keys."""
    return {key: value for key, value in values.items() if key not in hidden}


def history_details(details: Mapping[str, Any], hidden: set[str]) -> dict[str, Any]:
    """Audit details as a viewer may see them: hidden fields left out of data and changes, and counted."""
    if not hidden:
        return dict(details)
    shown = dict(details)
    left_out = 0
    for key in ("data", "changes", "payload"):
        if isinstance(details.get(key), Mapping):
            shown[key] = without(details[key], hidden)
            left_out = max(left_out, len(details[key]) - len(shown[key]))
    if left_out:
        shown["verborgen"] = left_out
    return shown


def header_of(row: ProcessInstance, version: LoadedVersion) -> CaseHeader:
    """The header view of a case row."""
    return CaseHeader(
        instance_id=row.id,
        business_key=row.business_key,
        process_id=row.process_id,
        process_name=version.name,
        version=version.version,
        site=row.site,
        status=row.status,
        applicant_name=row.applicant_name,
        claim_date=row.claim_date,
        created_at=row.created_at,
        updated_at=row.updated_at,
        lock_version=row.lock_version,
        next_timer_at=row.next_timer_at,
        error_message=row.error_message,
    )
