"""ORM tables. The schema is owned by the Alembic migrations in ``engine/migrations``."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

SEARCH_NAME_LENGTH = 500
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str | None) -> str:
    """A name or a search term as it is matched (``engine.case_text``): single spaces, case folded, umlauts
    spelled out, accents dropped ("  Jürgen  MÜLLER-Çelik " → "juergen mueller-celik")."""
    spaced = " ".join(unicodedata.normalize("NFC", text or "").split()).casefold()
    return _plain(spaced.translate(_UMLAUTS))


def search_name_of(name: str | None) -> str | None:
    """The stored search text of an applicant name: the folded name, and on a second line the name with its
    umlauts merely stripped where that differs ("müller" → "mueller\\nmuller"), so both spellings find it."""
    if not name or not name.strip():
        return None
    folded = fold(name)
    plain = _plain(" ".join(unicodedata.normalize("NFC", name).split()).casefold())
    text = folded if plain == folded else f"{folded}\n{plain}"
    return text[:SEARCH_NAME_LENGTH]


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Store aware datetimes as naive UTC (SQLite has no time zones) and return them aware."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the engine stores aware UTC times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class User(Base):
    """A member of staff who can log in."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserSession(Base):
    """One login (``engine.sessions``): the cookie holds a random token, this row its SHA-256 and its lifetime."""

    __tablename__ = "user_session"
    __table_args__ = (sa.Index("ix_user_session_user", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(sa.String(16))
    # Why an auditor reads personal data in this sitting (engine.audit_purpose), recorded with every access.
    purpose: Mapped[str | None] = mapped_column(sa.String(40))
    purpose_reference: Mapped[str | None] = mapped_column(sa.String(200))
    purpose_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginThrottle(Base):
    """Failed logins of one user name or one client address (``engine.login_throttle``), for every web process."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refused: Mapped[int] = mapped_column(default=0)  # tries refused in the current block, not yet in the trail
    refused_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Grant(Base):
    """A user's membership in a group (EGS, LSB, …) at a site ('*' = every site), optionally time-limited."""

    __tablename__ = "user_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    group_code: Mapped[str] = mapped_column(sa.String(16))
    site: Mapped[str] = mapped_column(sa.String(16))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a redeployment's grant starts later
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessVersion(Base):
    """An immutable deployed version of one process, with the files and forms it needs."""

    __tablename__ = "process_version"
    __table_args__ = (
        sa.UniqueConstraint("process_id", "version", name="uq_process_version_process_id_version"),
        sa.Index("ix_process_version_process_hash", "process_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(sa.String(100))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(300))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    resources: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    forms: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    start_lane: Mapped[str | None] = mapped_column(sa.String(16))
    deployed_by: Mapped[str] = mapped_column(sa.String(64))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    comment: Mapped[str | None] = mapped_column(sa.Text)  # the process owner's note on a deploy


class ProcessInstance(Base):
    """One case: a running (or finished) process instance with its serialized engine state."""

    __tablename__ = "process_instance"
    __table_args__ = (
        sa.Index("ix_process_instance_timer", "status", "next_timer_at"),
        # the auditor's list, one per sort order, covering its filters (migration 0024, ``audit_search``)
        sa.Index("ix_process_instance_updated", "updated_at", "id", "site", "status", "process_id", "version_id",
                 "created_at", "search_name", "business_key"),
        sa.Index("ix_process_instance_started", "id", "site", "status", "process_id", "version_id", "created_at",
                 "updated_at", "search_name", "business_key"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(sa.String(100))
    business_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    related_key: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    site: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.Text)
    serializer_version: Mapped[str] = mapped_column(sa.String(8))
    lock_version: Mapped[int]
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    applicant_name: Mapped[str | None] = mapped_column(sa.String(200))
    claim_date: Mapped[date | None] = mapped_column(sa.Date)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    audit_head: Mapped[str | None] = mapped_column(sa.String(64))  # hash of the case's last audit event
    priority: Mapped[int] = mapped_column(default=0, server_default="0")  # set by leads; new tasks start with it
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # set by leads; new tasks are due by then
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    search_name: Mapped[str | None] = mapped_column(sa.String(SEARCH_NAME_LENGTH))  # ``search_name_of`` the name

    @validates("applicant_name")
    def _mirror_search_name(self, _key: str, value: str | None) -> str | None:
        self.search_name = search_name_of(value)
        return value


class Incident(Base):
    """A failed step, timer or message of a case, until someone retries it, a later step succeeds or the
    case is cancelled. ``transient`` failures (database) are retried by the worker at ``next_retry_at``."""

    __tablename__ = "incident"
    __table_args__ = (sa.Index("ix_incident_open", "resolved_at", "instance_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("process_instance.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    element_id: Mapped[str | None] = mapped_column(sa.String(200))
    message: Mapped[str] = mapped_column(sa.Text)
    transient: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    attempts: Mapped[int] = mapped_column(default=1)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(sa.String(64))
    resolution: Mapped[str | None] = mapped_column(sa.String(300))


NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)  # sorts tasks without a due date last


def search_text_of(business_key: str | None, applicant_name: str | None) -> str:
    """What the inbox search looks in: business key and name, lower case."""
    return f"{business_key or ''} {applicant_name or ''}".lower()


class HumanTask(Base):
    """A READY user task, denormalised for the inbox; rewritten on every save of its case.

    ``due_sort`` mirrors ``due_at`` (far future when there is none) so that "due first" is an index order.
    """

    __tablename__ = "human_task"
    __table_args__ = (
        sa.Index(
            "ix_human_task_group_queue",
            "lane",
            "site",
            "due_sort",
            "created_at",
            "id",
            postgresql_where=sa.text("assignee_id IS NULL"),
            sqlite_where=sa.text("assignee_id IS NULL"),
        ),
        sa.Index("ix_human_task_due_sort", "lane", "site", "due_sort"),
        sa.Index("ix_human_task_mine", "assignee_id", "due_sort"),
        sa.Index("ix_human_task_site_due", "site", "due_sort"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[str] = mapped_column(sa.String(100))
    process_name: Mapped[str] = mapped_column(sa.String(300))
    task_spec_id: Mapped[str] = mapped_column(sa.String(100))
    name: Mapped[str] = mapped_column(sa.String(300))
    label: Mapped[str | None] = mapped_column(sa.String(200))  # which document etc. (model property egsLabel)
    lane: Mapped[str] = mapped_column(sa.String(16))
    egs_role: Mapped[str | None] = mapped_column(sa.String(40))
    form_key: Mapped[str | None] = mapped_column(sa.String(200))
    site: Mapped[str] = mapped_column(sa.String(16))
    business_key: Mapped[str | None] = mapped_column(sa.String(64))
    applicant_name: Mapped[str | None] = mapped_column(sa.String(200))
    search_text: Mapped[str] = mapped_column(sa.String(270), default="")
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="SET NULL"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_sort: Mapped[datetime] = mapped_column(UTCDateTime(), default=NO_DUE_DATE)
    priority: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    arrived_by: Mapped[str | None] = mapped_column(sa.String(64))  # who took the step it began in (not news to them)

    @validates("due_at")
    def _mirror_due(self, _key: str, value: datetime | None) -> datetime | None:
        self.due_sort = value or NO_DUE_DATE
        return value

    @validates("business_key", "applicant_name")
    def _mirror_search(self, key: str, value: str | None) -> str | None:
        parts = {"business_key": self.business_key, "applicant_name": self.applicant_name, key: value}
        self.search_text = search_text_of(parts["business_key"], parts["applicant_name"])
        return value


class AuditEvent(Base):
    """One append-only, hash-chained audit record (no foreign keys: it outlives what it describes)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_instance", "instance_id", "id"),
        sa.Index("ix_audit_event_chain", "chain", "id"),
        sa.Index("ix_audit_event_task", "task_uuid"),
        sa.Index("ix_audit_event_actor", "actor", "id", "action", "instance_id"),
        sa.Index("ix_audit_event_action", "action", "actor", "instance_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(40))
    instance_id: Mapped[int | None]
    task_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    process_id: Mapped[str | None] = mapped_column(sa.String(100))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    chain: Mapped[str] = mapped_column(sa.String(40))
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    # The key that signed ``hash`` (``audit_keys.key_id``); None: written before key rotation existed.
    key_id: Mapped[str | None] = mapped_column(sa.String(16))


class CashRegister(Base):
    """The petty-cash box (Handvorschusskasse) of one site: balance, custodian and deputy."""

    __tablename__ = "petty_cash_register"

    site: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    balance_cents: Mapped[int]
    custodian: Mapped[str | None] = mapped_column(sa.String(64))
    deputy: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CashEntry(Base):
    """One booking in a petty-cash book (payout, repayment, top-up) or a daily close."""

    __tablename__ = "petty_cash_entry"
    __table_args__ = (sa.Index("ix_petty_cash_entry_site", "site", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(sa.String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(sa.String(16))
    amount_cents: Mapped[int]
    balance_after_cents: Mapped[int]
    purpose: Mapped[str] = mapped_column(sa.String(300))
    actor: Mapped[str] = mapped_column(sa.String(64))
    instance_id: Mapped[int | None]
    business_key: Mapped[str | None] = mapped_column(sa.String(64))


class PaymentListEntry(Base):
    """One approved payment on a monthly Sammelliste (EGZ, EQ, § 16e SGB II)."""

    __tablename__ = "payment_list_entry"
    __table_args__ = (sa.Index("ix_payment_list_entry_list", "site", "measure_type", "pay_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(sa.String(16))
    measure_type: Mapped[str] = mapped_column(sa.String(8))
    pay_month: Mapped[str] = mapped_column(sa.String(7))
    recipient: Mapped[str] = mapped_column(sa.String(200))
    amount_cents: Mapped[int]
    instance_id: Mapped[int | None]
    business_key: Mapped[str | None] = mapped_column(sa.String(64))
    approved_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Cancellation (four-eyes): one person asks with a reason, a second one confirms; the entry stays.
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(500))
    cancel_requested_by: Mapped[str | None] = mapped_column(sa.String(64))
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(sa.String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TaskDraft(Base):
    """Form input a user saved without completing the task ("Speichern"); survives logout."""

    __tablename__ = "task_draft"
    __table_args__ = (sa.UniqueConstraint("task_uuid", "user_id", name="uq_task_draft_task_uuid_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_uuid: Mapped[str] = mapped_column(sa.String(36), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"))
    values: Mapped[dict[str, list[str]]] = mapped_column(sa.JSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TaskNotice(Base):
    """A stored notification for one person (``engine.notices``): a task taken from them (the first kind), a
    task delegated or reassigned to them, their task due tomorrow or overdue, an incident, a staffing
    escalation. Tasks arriving for a group are not stored per member (``engine.notifications``)."""

    __tablename__ = "task_notice"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "dedupe_key", name="uq_task_notice_user_id_dedupe_key"),
        sa.Index("ix_task_notice_user_created", "user_id", "created_at"),
        sa.Index("ix_task_notice_user_task", "user_id", "task_uuid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(24), default="entzogen", server_default="entzogen")
    instance_id: Mapped[int]
    task_uuid: Mapped[str | None] = mapped_column(sa.String(36))
    task_name: Mapped[str | None] = mapped_column(sa.String(300))
    business_key: Mapped[str | None] = mapped_column(sa.String(64))
    by_name: Mapped[str | None] = mapped_column(sa.String(200))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120))  # what the worker wrote once, never twice
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ModelDraft(Base):
    """A process owner's draft of a process model (BPMN text and forms of its own), kept on the server until
    it is deployed or deleted; never live. ``lock_version`` guards against overwriting a newer save."""

    __tablename__ = "model_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(sa.String(100), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    base_version: Mapped[int | None]
    filename: Mapped[str] = mapped_column(sa.String(200))
    bpmn_xml: Mapped[str] = mapped_column(sa.Text)
    forms: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lock_version: Mapped[int] = mapped_column(default=1)
    # "bpmn": a draft of a process (``process_id``); "dmn": a draft of a decision table file, whose file name
    # is then both ``filename`` and ``process_id`` (``decisions``).
    kind: Mapped[str] = mapped_column(sa.String(8), default="bpmn", server_default="bpmn")


class DecisionVersion(Base):
    """An immutable deployed version of a decision table file (DMN). The processes that use it carry a copy in
    their version's files; a deploy of a new version gives each of them a new process version (``decisions``)."""

    __tablename__ = "decision_version"
    __table_args__ = (sa.UniqueConstraint("filename", "version", name="uq_decision_version_filename_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(300))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    xml: Mapped[str] = mapped_column(sa.Text)
    deployed_by: Mapped[str] = mapped_column(sa.String(64))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    comment: Mapped[str | None] = mapped_column(sa.Text)


class LegalHold(Base):
    """A Löschsperre (legal hold) on a case or on a person (applicant name, lower case): while it is not lifted,
    retention deletes nothing of it. Set and lifted by the audit function, with reasons; both audited."""

    __tablename__ = "legal_hold"
    __table_args__ = (
        sa.Index("ix_legal_hold_instance", "instance_id", "lifted_at"),
        sa.Index("ix_legal_hold_person", "person", "lifted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None]
    person: Mapped[str | None] = mapped_column(sa.String(200))
    reason: Mapped[str] = mapped_column(sa.String(500))
    set_by: Mapped[str] = mapped_column(sa.String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lifted_by: Mapped[str | None] = mapped_column(sa.String(64))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lift_reason: Mapped[str | None] = mapped_column(sa.String(500))


class TrialCase(Base):
    """A Probelauf: a process owner's trial run of a model draft, kept apart from real cases by its own table.

    It carries the files and forms it started with (the draft may change meanwhile), its engine state, its
    open tasks (``tasks``: its only "inbox rows") and a journal of its steps. Nothing that lists, counts or
    exports cases reads this table; throwing a trial away deletes the row with everything in it."""

    __tablename__ = "trial_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("model_draft.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[str] = mapped_column(sa.String(100))
    name: Mapped[str] = mapped_column(sa.String(300))
    site: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.Text)
    serializer_version: Mapped[str] = mapped_column(sa.String(8))
    lock_version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    resources: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    forms: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    tasks: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    journal: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_by: Mapped[str] = mapped_column(sa.String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A token of the REST API (``engine.api_tokens``): a system's (scopes and the sites it acts for) or a
    person's (their own rights, narrowed by scopes). Only the SHA-256 of the secret is kept; the prefix finds the
    row. ``window_*`` count the requests of the current minute (the rate limit, shared by every web process)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(16))  # "system" or "personal"
    name: Mapped[str] = mapped_column(sa.String(100))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON)
    sites: Mapped[list[str]] = mapped_column(sa.JSON)
    rate_limit: Mapped[int]  # requests per minute
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    window_count: Mapped[int] = mapped_column(default=0)


class ApiIdempotency(Base):
    """A POST of the REST API under an ``Idempotency-Key``: the fingerprint of its request and, once done, the
    reply that a retry gets again (``engine.api_requests``). A row without a reply is in progress."""

    __tablename__ = "api_idempotency"
    __table_args__ = (sa.UniqueConstraint("token_id", "key", name="uq_api_idempotency_token_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(200))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int | None]
    body: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ModelDocument(Base):
    """A BPMN file from another tool kept as documentation: shown in the viewer, never deployed. ``findings`` lists
    why it cannot run as it is (``model_analysis.Finding.to_json``)."""

    __tablename__ = "model_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    filename: Mapped[str] = mapped_column(sa.String(200))
    bpmn_xml: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    uploaded_by: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModelRelease(Base):
    """A deploy of a model draft waiting for a second process owner (``[modelle] freigabe_durch_zweite_person``):
    the draft as it was when asked (``draft_lock_version``), the author's comment and the diff summary. Open until
    released (the draft is deployed and the row goes) or rejected with a reason (kept for the author to read)."""

    __tablename__ = "model_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(sa.ForeignKey("model_draft.id", ondelete="CASCADE"), unique=True)
    process_id: Mapped[str] = mapped_column(sa.String(100))
    draft_lock_version: Mapped[int]
    base_version: Mapped[int | None]
    comment: Mapped[str] = mapped_column(sa.Text)
    summary: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    requested_by: Mapped[str] = mapped_column(sa.String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rejected_by: Mapped[str | None] = mapped_column(sa.String(64))
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reject_reason: Mapped[str | None] = mapped_column(sa.String(1000))
