"""The request and response bodies of the REST API as pydantic models: they validate requests and are the
schemas of the OpenAPI 3.1 document (pydantic writes JSON Schema 2020-12, the dialect of OpenAPI 3.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.vocabulary import BUSINESS_KEY_MAX


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _printable(value: str | None) -> str | None:
    if value is not None and any(not ch.isprintable() for ch in value):
        raise ValueError("nur druckbare Zeichen")
    return value


class StartCase(Strict):
    """Start a case: process, site and (optionally) its Geschäftszeichen – the fields of the start form."""

    process: str = Field(min_length=1, max_length=100, description="Prozess-ID, z. B. pb_antragsannahme")
    site: str = Field(min_length=1, max_length=16, description="Standort, z. B. 56.4")
    business_key: str | None = Field(
        default=None, min_length=1, max_length=BUSINESS_KEY_MAX, description="Geschäftszeichen (sonst vergeben)"
    )

    _check_key = field_validator("business_key")(_printable)


class SendMessage(Strict):
    """Deliver a message to the running cases with a business key, e.g. „Unterlagen eingegangen“."""

    message: str = Field(min_length=1, max_length=200, description="Name der Nachricht im Modell")
    business_key: str = Field(min_length=1, max_length=BUSINESS_KEY_MAX, description="Vorgangsnummer")
    payload: dict[str, Any] = Field(
        default_factory=dict,
        description='Inhalt, z. B. {"dokumente": ["Mietvertrag"], "eingang_am": "2026-12-01"}',
    )

    _check_key = field_validator("business_key", "message")(_printable)


class CompleteTask(Strict):
    """Complete a task: the case version the data is based on (optimistic locking) and the form's data."""

    lock_version: int = Field(ge=0, le=2**31 - 1, description="Stand des Vorgangs, auf dem die Eingaben beruhen")
    data: dict[str, Any] = Field(default_factory=dict, description="Formulardaten (Feldname → Wert)")


class HistoryQuery(Strict):
    zweck: str = Field(min_length=1, max_length=40, description="Zweck der Einsicht (§ 67 ff. SGB X), z. B. pruefung")
    aktenzeichen: str = Field(min_length=1, max_length=200, description="Aktenzeichen oder Bezug")


class IdempotencyHeaders(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    idempotency_key: str | None = Field(
        default=None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Beliebiger Schlüssel je Anfrage: eine Wiederholung mit demselben Schlüssel wirkt nur einmal.",
    )


class OpenTask(BaseModel):
    task_uuid: str
    name: str
    label: str | None
    lane: str
    site: str
    due_at: datetime | None
    priority: int
    assigned: bool


class Case(BaseModel):
    instance_id: int
    business_key: str | None
    process_id: str
    process_name: str
    version: int
    site: str
    status: str
    created_at: datetime
    updated_at: datetime
    lock_version: int
    next_timer_at: datetime | None


class CaseStatus(BaseModel):
    case: Case
    open_tasks: list[OpenTask]


class Delivered(BaseModel):
    delivered: int = Field(description="Wie viele Vorgänge die Nachricht aufgenommen haben")


class Task(BaseModel):
    task_uuid: str
    instance_id: int
    name: str
    label: str | None
    process_id: str
    process_name: str
    business_key: str | None
    site: str
    lane: str
    due_at: datetime | None
    priority: int
    assignee: str | None


class TaskList(BaseModel):
    tasks: list[Task]


class FormField(BaseModel):
    name: str
    title: str
    type: str
    required: bool


class TaskDetail(BaseModel):
    task_uuid: str
    name: str
    label: str | None
    lane: str
    due_at: datetime | None
    assignee: str | None
    instructions: str
    case: Case
    lock_version: int = Field(description="Beim Abschließen als lock_version mitsenden")
    fields: list[FormField]


class NextTask(BaseModel):
    task_uuid: str
    name: str
    lane: str
    site: str
    may_work: bool


class Completed(BaseModel):
    case: Case
    next_tasks: list[NextTask]


class HistoryEntry(BaseModel):
    event_id: int
    occurred_at: datetime
    actor: str
    action: str
    label: str
    task_name: str | None
    details: dict[str, Any]


class History(BaseModel):
    case: Case
    verified: bool
    entries: list[HistoryEntry]


class Export(BaseModel):
    name: str
    title: str
    parameters: dict[str, str]


class ExportList(BaseModel):
    exports: list[Export]


class Problem(BaseModel):
    """Problem Details (RFC 9457) with a German title and detail."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    field_errors: dict[str, list[str]] | None = None
