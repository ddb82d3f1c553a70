"""Cases with a known history at fixed instants, for the event-log exports and the heat map (issue 12)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lxml import etree

from engine import clock
from engine.api import Engine
from tests.support import pb

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 08:00 in Berlin
XES_SCHEMA = Path(__file__).parent.parent / "data" / "standards" / "xes-ieee-1849-2016.xsd"

# The main path of PB Antragsannahme: (task, who completes it, form data).
MAIN_PATH = (
    (pb.ANMELDEN, "egs", lambda: pb.anmeldung()),
    (pb.ANNEHMEN, "egs", lambda: pb.ANTRAGSANNAHME),
    (pb.BG_ERFASSEN, "egs", lambda: pb.BEDARFSGEMEINSCHAFT),
    (pb.VORRANG_HINWEISEN, "egs", lambda: pb.vorrang()),
    (pb.NEU_ANLEGEN, "egs", lambda: pb.neuanlage()),
    (pb.PAPIERAKTE_ANLEGEN, "egs", lambda: pb.papierakte()),
    (pb.VOLLSTAENDIGKEIT_PRUEFEN, "egs", lambda: pb.VOLLSTAENDIG),
    (pb.TERMINE_DOKUMENTIEREN, "egs", lambda: pb.termine()),
    (pb.VERTEILEN, "tl", lambda: pb.VERTEILUNG),
    (pb.UEBERNEHMEN, "lsb", lambda: pb.UEBERNAHME),
)


def at(minutes: float) -> AbstractContextManager[datetime]:
    return clock.frozen(T0 + timedelta(minutes=minutes))


def main_path_case(engine: Engine, start: float = 0, *, claim_first: bool = True, delegate_to: str | None = None,
                   **anmeldung: str) -> int:  # fmt: skip
    """A completed PB case along the main path, at ``start`` minutes after T0: task n is ready at minute
    10·n, claimed 2 minutes later (``claim_first``) and completed 10 minutes after it was ready. With
    ``delegate_to``, the registration is delegated to that EGS colleague, who completes it."""
    with at(start):
        case = engine.start_case(engine.actor("egs"), pb.PROCESS, site="56.4")
    for number, (task_name, who, data) in enumerate(MAIN_PATH):
        ready = start + 10 * number
        actor = engine.actor(who)
        task = pb.open_task(engine, actor, case.instance_id)
        assert task.name == task_name
        if claim_first:
            with at(ready + 2):
                engine.claim(actor, task.task_uuid)
        if delegate_to and number == 0:
            with at(ready + 3):
                engine.delegate(actor, task.task_uuid, delegate_to, "Vertretung")
            actor = engine.actor(delegate_to)
        with at(ready + 10):
            values = {**data(), **(anmeldung if number == 0 else {})}
            engine.complete_task(actor, task.task_uuid, values)
    return case.instance_id


def xes_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XES_SCHEMA)))
