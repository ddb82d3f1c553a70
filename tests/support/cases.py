"""Drive one case through a process in tests, as the users of the lanes would.

    case = CaseDriver(deployed, "pb_antragsannahme", site="56.4")
    case.complete("Besucher anmelden und Anliegen erfassen", {...})      # as an EGS user of the site
    case.complete("Antrag übernehmen", {...}, as_user="lsb")              # or explicitly
    case.fire_timers(days=15)                                             # the clock moves on
    assert case.open_task_names() == ["Versagung prüfen (§ 66 SGB I)"]

Users are taken per lane and site: the demo users at 56.4, otherwise one is created on first use
(``<lane>_<site>``, e.g. ``egs_56.6``). Time is real unless the test freezes it around the calls.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from engine import clock
from engine.api import Engine
from engine.auth import Actor, system_actor
from engine.inbox import TaskSummary, tasks_of_case
from engine.read_models import CaseHeader

from .users import user_for


class CaseDriver:
    """One case, driven step by step through the engine API."""

    def __init__(
        self,
        engine: Engine,
        process_id: str,
        *,
        site: str = "56.4",
        starter: str | None = None,
        business_key: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.engine = engine
        self.site = site
        actor = engine.actor(starter) if starter else self._starter(process_id)
        self.header: CaseHeader = engine.start_case(actor, process_id, site=site, business_key=business_key, data=data)
        self.instance_id = self.header.instance_id

    @classmethod
    def existing(cls, engine: Engine, instance_id: int) -> CaseDriver:
        """A driver for a case that was started elsewhere (e.g. by a message from another case)."""
        driver = cls.__new__(cls)
        driver.engine, driver.instance_id = engine, instance_id
        driver.header = engine.case_view(engine.actor("audit"), instance_id).header
        driver.site = driver.header.site
        return driver

    @classmethod
    def by_message(
        cls, engine: Engine, process_id: str, message: str, payload: dict[str, Any], *, site: str = "56.4"
    ) -> CaseDriver:
        """A case of ``process_id`` started by ``message`` (as if another case had sent it)."""
        with engine.db.transaction() as session:
            version = engine.specs.latest(session, process_id)
            row = engine.casework.start(
                session, version, site=site, business_key=None, actor="test", message=(message, payload)
            )
            instance_id = row.id
        return cls.existing(engine, instance_id)

    def _starter(self, process_id: str) -> Actor:
        with self.engine.db.reading() as session:
            lane = (self.engine.specs.latest(session, process_id).model.start_lanes or ("EGS",))[0]
        return user_for(self.engine, lane, self.site)

    def open_tasks(self) -> list[TaskSummary]:
        """All open tasks of the case, whoever may work them."""
        with self.engine.db.reading() as session:
            return tasks_of_case(session, self.instance_id)

    def open_task_names(self) -> list[str]:
        return sorted(t.name for t in self.open_tasks())

    def task(self, name: str) -> TaskSummary:
        """The open task called ``name`` (fails with the list of open tasks otherwise)."""
        matches = [t for t in self.open_tasks() if t.name == name]
        assert matches, f"'{name}' ist nicht offen; offen: {self.open_task_names()}"
        return matches[0]

    def complete(self, name: str, data: dict[str, Any] | None = None, *, as_user: str | None = None) -> CaseHeader:
        """Complete the open task ``name`` as ``as_user`` or as a user of its lane at the case's site."""
        task = self.task(name)
        actor = self.engine.actor(as_user) if as_user else user_for(self.engine, task.lane, task.site)
        completion = self.engine.complete_task(actor, task.task_uuid, data or {})
        open_now = sorted(t.task_uuid for t in self.open_tasks())
        assert sorted(t.task_uuid for t in completion.next_tasks) == open_now, "complete names the open tasks"
        self.header = completion.header
        return self.header

    def fire_timers(self, *, days: float = 0, hours: float = 0, at: datetime | None = None) -> int:
        """Let the timer worker run at ``at`` or now + the given time; return how many cases moved."""
        moment = at or clock.now() + timedelta(days=days, hours=hours)
        return self.engine.fire_due_timers(moment)

    def send(self, message: str, payload: dict[str, Any] | None = None) -> int:
        """Deliver a message to this case from outside (as the system)."""
        assert self.header.business_key
        return self.engine.send_message(system_actor(), message, self.header.business_key, payload, system=True)

    @property
    def data(self) -> dict[str, Any]:
        """The case data so far (read as an auditor would, via the case view)."""
        return self.engine.case_view(self.engine.actor("audit"), self.instance_id).data

    @property
    def status(self) -> str:
        return self.engine.case_view(self.engine.actor("audit"), self.instance_id).header.status
