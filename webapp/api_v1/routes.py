"""The operations of ``/api/v1``: thin views over ``engine.api.Engine``, like the web pages.

Each view asks the engine for the token's principal with the operation's scope (``access.principal``), calls
the same engine operation as the web, and answers with a pydantic model. A POST with an ``Idempotency-Key``
runs once: the engine keeps its reply with the operation in one transaction (``engine.idempotency``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from flask import Response, request, url_for
from pydantic import BaseModel
from spectree import Response as Answers
from werkzeug.utils import secure_filename

from engine.api_tokens import Principal
from engine.errors import BadRequestError, FormValidationError, NotFoundError
from engine.idempotency import Claim, Reply
from engine.inbox import TaskSummary
from engine.read_models import CaseHeader, Completion

from ..blueprints.cases import check_start
from ..extensions import get_engine
from . import access, bp, schemas
from .schemas import Problem
from .spec import spec

T = TypeVar("T")
ID_MAX = 2**31 - 1  # larger ids are no case of ours (and no integer PostgreSQL would take)
START_FIELDS = {"prozess": "process", "standort": "site", "geschaeftszeichen": "business_key"}
REPLAYED = "Idempotent-Replayed"


def answers(**ok: type[BaseModel]) -> Answers:
    """The responses of an operation: its successes and every problem an API call can meet."""
    problems = {f"HTTP_{status}": Problem for status in (400, 401, 403, 404, 409, 413, 422, 428, 429)}
    return Answers(**problems, **ok)


def case_of(header: CaseHeader) -> schemas.Case:
    return schemas.Case(
        instance_id=header.instance_id, business_key=header.business_key, process_id=header.process_id,
        process_name=header.process_name, version=header.version, site=header.site, status=header.status,
        created_at=header.created_at, updated_at=header.updated_at, lock_version=header.lock_version,
        next_timer_at=header.next_timer_at,
    )  # fmt: skip


def task_of(task: TaskSummary) -> schemas.Task:
    return schemas.Task(
        task_uuid=task.task_uuid, instance_id=task.instance_id, name=task.name, label=task.label,
        process_id=task.process_id, process_name=task.process_name, business_key=task.business_key, site=task.site,
        lane=task.lane, due_at=task.due_at, priority=task.priority, assignee=task.assignee,
    )  # fmt: skip


def _once(principal: Principal, body: BaseModel, run: Callable[[Claim | None], Reply]) -> Any:
    """Run a POST, once per ``Idempotency-Key``: a retry gets the kept reply (header ``Idempotent-Replayed``)."""
    headers = request.context.headers  # type: ignore[attr-defined]
    key = headers.idempotency_key if headers is not None else None
    claim = None
    if key:
        fingerprint = access.fingerprint(body.model_dump(mode="json"))
        kept = get_engine().claim_idempotency(principal, key, fingerprint)
        if kept is not None:
            return kept.body, kept.status, {REPLAYED: "true"}
        claim = Claim(principal.token_id, key, fingerprint)
    reply = run(claim)
    return reply.body, reply.status


def _json(context: str) -> Any:
    return getattr(request.context, context)  # type: ignore[attr-defined]


def _instance(instance_id: int) -> int:
    if instance_id > ID_MAX:
        raise NotFoundError("Den Vorgang gibt es nicht.")
    return instance_id


@bp.post("/cases")
@spec.validate(json=schemas.StartCase, headers=schemas.IdempotencyHeaders, resp=answers(HTTP_201=schemas.Case),
               tags=["Vorgänge"], operation_id="startCase")  # fmt: skip
def start_case() -> Any:
    """Vorgang starten

    Prozess, Standort und (optional) Geschäftszeichen – geprüft nach den Regeln des Startformulars. Umfang
    `cases:start`; ein System-Token nur an seinen Standorten. Mit `Idempotency-Key` startet eine Wiederholung
    keinen zweiten Vorgang.
    """
    principal = access.principal("cases:start")
    body: schemas.StartCase = _json("json")
    engine = get_engine()
    if principal.acts_for(body.site):  # else the engine refuses the site (403, recorded)
        processes = {process.process_id: process for process in engine.api_startable(principal)}
        errors = check_start(processes, body.process, body.site, body.business_key or "")
        if errors:
            raise FormValidationError({START_FIELDS.get(name, name): texts for name, texts in errors.items()})

    def reply(header: CaseHeader) -> Reply:
        return Reply(201, case_of(header).model_dump(mode="json"))

    def run(claim: Claim | None) -> Reply:
        header = engine.api_start_case(principal, body.process, body.site, body.business_key, claim, reply)
        return reply(header)

    body_out, status, *headers = _once(principal, body, run)
    location = url_for("api_v1.case_status", instance_id=body_out["instance_id"])
    return body_out, status, {"Location": location, **(headers[0] if headers else {})}


@bp.get("/cases/<int:instance_id>")
@spec.validate(resp=answers(HTTP_200=schemas.CaseStatus), tags=["Vorgänge"], operation_id="getCase")
def case_status(instance_id: int) -> Any:
    """Stand eines Vorgangs mit seinen offenen Aufgaben

    Umfang `cases:read`; ein System-Token sieht Vorgänge seiner Standorte, ein persönliches Token die Vorgänge,
    die die Person öffnen darf. Jeder Abruf wird protokolliert.
    """
    principal = access.principal("cases:read")
    status = get_engine().api_case_status(principal, _instance(instance_id))
    tasks = [
        schemas.OpenTask(
            task_uuid=t.task_uuid,
            name=t.name,
            label=t.label,
            lane=t.lane,
            site=t.site,
            due_at=t.due_at,
            priority=t.priority,
            assigned=t.assignee is not None,
        )  # fmt: skip
        for t in status.open_tasks
    ]
    return schemas.CaseStatus(case=case_of(status.header), open_tasks=tasks)


@bp.post("/messages")
@spec.validate(json=schemas.SendMessage, headers=schemas.IdempotencyHeaders,
               resp=answers(HTTP_200=schemas.Delivered), tags=["Nachrichten"], operation_id="sendMessage")  # fmt: skip
def send_message() -> Any:
    """Nachricht an einen Vorgang senden

    Die Nachricht (z. B. „Unterlagen eingegangen“ mit `dokumente` und `eingang_am`) geht an die laufenden
    Vorgänge mit dieser Vorgangsnummer, die auf sie warten. Umfang `messages:send`; ein System-Token nur an
    Vorgänge seiner Standorte. Mit `Idempotency-Key` wird eine Wiederholung nicht zweimal zugestellt.
    """
    principal = access.principal("messages:send")
    body: schemas.SendMessage = _json("json")
    engine = get_engine()

    def reply(count: int) -> Reply:
        return Reply(200, schemas.Delivered(delivered=count).model_dump(mode="json"))

    def run(claim: Claim | None) -> Reply:
        return reply(engine.api_send_message(principal, body.message, body.business_key, body.payload, claim, reply))

    return _once(principal, body, run)


@bp.get("/tasks")
@spec.validate(resp=answers(HTTP_200=schemas.TaskList), tags=["Aufgaben"], operation_id="listTasks")
def list_tasks() -> Any:
    """Meine offenen Aufgaben

    Was die Person des Tokens bearbeiten darf (übernommen oder nicht), Fälligste zuerst. Umfang `tasks:work`,
    nur persönliche Token.
    """
    principal = access.principal("tasks:work")
    return schemas.TaskList(tasks=[task_of(task) for task in get_engine().inbox(principal.actor)])


def _task_uuid(task_uuid: UUID) -> str:
    return str(task_uuid)


@bp.get("/tasks/<uuid:task_uuid>")
@spec.validate(resp=answers(HTTP_200=schemas.TaskDetail), tags=["Aufgaben"], operation_id="getTask")
def task_detail(task_uuid: UUID) -> Any:
    """Eine Aufgabe mit ihren Formularfeldern und dem Stand (`lock_version`) zum Abschließen

    Umfang `tasks:work`; der Abruf wird protokolliert wie das Öffnen der Aufgabe im Browser.
    """
    principal = access.principal("tasks:work")
    view = get_engine().task_view(principal.actor, _task_uuid(task_uuid))
    fields = [schemas.FormField(name=f.name, title=f.title, type=f.type, required=f.required) for f in view.fields]
    return schemas.TaskDetail(
        task_uuid=view.task_uuid, name=view.name, label=view.label, lane=view.lane, due_at=view.due_at,
        assignee=view.assignee, instructions=view.instructions, case=case_of(view.header),
        lock_version=view.header.lock_version, fields=fields,
    )  # fmt: skip


@bp.post("/tasks/<uuid:task_uuid>/complete")
@spec.validate(json=schemas.CompleteTask, headers=schemas.IdempotencyHeaders,
               resp=answers(HTTP_200=schemas.Completed), tags=["Aufgaben"], operation_id="completeTask")  # fmt: skip
def complete_task(task_uuid: UUID) -> Any:
    """Aufgabe abschließen

    Mit den Formulardaten und dem `lock_version` des Vorgangs, auf dem sie beruhen: hat sich der Vorgang
    seitdem geändert, antwortet die API 409 und ändert nichts. Umfang `tasks:work`.
    """
    principal = access.principal("tasks:work")
    body: schemas.CompleteTask = _json("json")
    engine = get_engine()
    uuid = _task_uuid(task_uuid)

    def reply(done: Completion) -> Reply:
        next_tasks = [schemas.NextTask(task_uuid=t.task_uuid, name=t.name, lane=t.lane, site=t.site,
                                       may_work=t.may_work) for t in done.next_tasks]  # fmt: skip
        return Reply(200, schemas.Completed(case=case_of(done.header), next_tasks=next_tasks).model_dump(mode="json"))

    def run(claim: Claim | None) -> Reply:
        return reply(engine.api_complete_task(principal, uuid, body.data, body.lock_version, claim, reply))

    return _once(principal, body, run)


@bp.get("/cases/<int:instance_id>/history")
@spec.validate(query=schemas.HistoryQuery, resp=answers(HTTP_200=schemas.History), tags=["Revision"],
               operation_id="getCaseHistory")  # fmt: skip
def case_history(instance_id: int) -> Any:
    """Verlauf eines Vorgangs (Revision)

    Jedes Ereignis mit Person, Aktion und Änderungen, mit der Prüfung der Kette. Umfang `audit:read`, nur
    persönliche Token der Gruppe AUDIT; der Zweck der Einsicht (§ 67 ff. SGB X: `zweck`, `aktenzeichen`) wird mit
    jedem Abruf protokolliert, wie in der Revisionsansicht.
    """
    principal = access.principal("audit:read")
    query: schemas.HistoryQuery = _json("query")
    story = get_engine().api_case_story(principal, _instance(instance_id), query.zweck, query.aktenzeichen)
    entries = [
        schemas.HistoryEntry(
            event_id=e.event_id,
            occurred_at=e.occurred_at,
            actor=e.person.login,
            action=e.action,
            label=e.label,
            task_name=e.task_name,
            details=e.details,
        )  # fmt: skip
        for e in story.entries
    ]
    return schemas.History(case=case_of(story.header), verified=story.verified, entries=entries)


@bp.get("/exports")
@spec.validate(resp=answers(HTTP_200=schemas.ExportList), tags=["Exporte"], operation_id="listExports")
def list_exports() -> Any:
    """Die Exporte des Exportregisters mit ihren Parametern

    Dieselben Exporte wie `egs export` und `/export/NAME` im Browser. Umfang `exports:read`.
    """
    access.principal("exports:read")
    found = [schemas.Export(name=e.name, title=e.title, parameters=dict(e.parameters))
             for e in get_engine().export_names()]  # fmt: skip
    return schemas.ExportList(exports=found)


# Not validated by SpecTree: its response check would read the whole file; a streamed export is never held
# whole. The operation is added to the OpenAPI document by ``docs`` from this description.
EXPORT_DOWNLOAD: dict[str, Any] = {
    "summary": "Export herunterladen",
    "description": (
        "Ein Export des Registers mit seinen Parametern als Query-Parameter (z. B. `standort=56.4&art=EGZ&"
        "monat=2025-05`), gestreamt; geprüft und protokolliert wie im Browser. Umfang `exports:read`."
    ),
    "operationId": "downloadExport",
    "tags": ["Exporte"],
    "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
    "media_types": ("text/csv", "application/xml"),
}


@bp.get("/exports/<name>")
def download_export(name: str) -> Any:
    """Stream a named export (parameters from the query string); the engine checks and audits it."""
    principal = access.principal("exports:read")
    parameters = request.args.to_dict()
    if any(not ch.isprintable() for text in (name, *parameters, *parameters.values()) for ch in text):
        raise BadRequestError("Parameter mit nicht druckbaren Zeichen.")
    engine = get_engine()
    result = engine.export(principal.actor, name, parameters)
    response = Response(engine.export_chunks(result), content_type=result.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{secure_filename(result.filename)}"'
    return response
