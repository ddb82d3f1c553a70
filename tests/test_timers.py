"""Timers: the document deadline fires once when due, survives a worker restart and is never doubled."""

from __future__ import annotations

import threading
from datetime import timedelta

from engine import clock
from engine.api import Engine
from engine.models import ProcessInstance
from tests.support import pb
from tests.support.engines import make_engine
from tests.support.pb import case_waiting_for_documents
from tests.support.records import timer_events


def test_deadline_fires_once_when_due(deployed: Engine) -> None:
    start = clock.parse_iso("2025-04-01T10:00:00+02:00")
    with clock.frozen(start):
        instance_id = case_waiting_for_documents(deployed, frist_tage=14)
    with deployed.db.reading() as session:
        due = session.get(ProcessInstance, instance_id).next_timer_at  # type: ignore[union-attr]
    # 14 days from the request of 01.04.: the deadline ends with 15.04., the timer fires at 0:00 of 16.04.
    assert due == clock.parse_iso("2025-04-16T00:00:00+01:00")

    assert deployed.fire_due_timers(due - timedelta(seconds=1)) == 0
    assert pb.open_task(deployed, deployed.actor("egs"), instance_id).name == pb.EINGANG_ERFASSEN

    assert deployed.fire_due_timers(due + timedelta(seconds=1)) == 1
    assert deployed.fire_due_timers(due + timedelta(days=1)) == 0
    egs_task = pb.open_task(deployed, deployed.actor("egs"), instance_id)
    assert egs_task.name == pb.ERINNERN, "first the reminder with Rechtsfolgenbelehrung"
    assert [t for t in deployed.inbox(deployed.actor("lsb")) if t.instance_id == instance_id] == []
    assert [e["timers"] for e in timer_events(deployed, instance_id)] == [["Frist abgelaufen"]]
    with deployed.db.reading() as session:
        assert session.get(ProcessInstance, instance_id).next_timer_at is None  # type: ignore[union-attr]

    reminded = due + timedelta(hours=9)
    with clock.frozen(reminded):
        pb.step(deployed, deployed.actor("egs"), instance_id, pb.ERINNERN, pb.erinnerung(7))
    second_due = clock.parse_iso("2025-04-24T00:00:00+02:00")  # end of 23.04. (timer at 0:00 CET = 1:00 CEST)
    assert deployed.fire_due_timers(second_due) == 0
    assert deployed.fire_due_timers(second_due + timedelta(hours=1, seconds=1)) == 1
    lsb_task = pb.open_task(deployed, deployed.actor("lsb"), instance_id)
    assert lsb_task.name == pb.VERSAGUNG_PRUEFEN
    assert [t for t in deployed.inbox(deployed.actor("egs")) if t.instance_id == instance_id] == []
    assert [e["timers"] for e in timer_events(deployed, instance_id)] == [["Frist abgelaufen"]] * 2


def test_timer_due_after_worker_restart_fires_once(deployed: Engine, db_url: str) -> None:
    start = clock.parse_iso("2025-04-01T10:00:00+02:00")
    with clock.frozen(start):
        instance_id = case_waiting_for_documents(deployed, frist_tage=3)
    with clock.frozen(start + timedelta(days=1)):
        deployed.run_worker(interval=0, max_rounds=1)  # a worker round before the deadline: nothing to do
    assert timer_events(deployed, instance_id) == []
    deployed.close()  # the worker process stops …

    restarted = make_engine(db_url)  # … and a new one starts with empty caches
    try:
        assert restarted.fire_due_timers(start + timedelta(days=3, hours=15, minutes=1)) == 1  # 04.04. is over
        assert restarted.fire_due_timers(start + timedelta(days=4)) == 0
        assert len(timer_events(restarted, instance_id)) == 1
        assert pb.open_task(restarted, restarted.actor("egs"), instance_id).name == pb.ERINNERN
    finally:
        restarted.close()


def test_concurrent_workers_fire_each_timer_once(deployed: Engine, db_url: str) -> None:
    start = clock.parse_iso("2025-04-01T10:00:00+02:00")
    with clock.frozen(start):
        cases = [case_waiting_for_documents(deployed, frist_tage=1) for _ in range(4)]
    workers = [make_engine(db_url) for _ in range(3)]
    barrier = threading.Barrier(len(workers))
    fired: list[int] = []

    def run(worker: Engine) -> None:
        barrier.wait()
        fired.append(worker.fire_due_timers(start + timedelta(days=2)))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.close()
    assert sum(fired) == len(cases)
    for instance_id in cases:
        assert len(timer_events(deployed, instance_id)) == 1


def test_documents_in_time_stop_the_deadline(deployed: Engine) -> None:
    start = clock.parse_iso("2025-04-01T10:00:00+02:00")
    with clock.frozen(start):
        instance_id = case_waiting_for_documents(deployed, frist_tage=14)
    with clock.frozen(start + timedelta(days=5)):
        pb.step(deployed, deployed.actor("egs"), instance_id, pb.EINGANG_ERFASSEN, pb.eingang())
    assert deployed.fire_due_timers(start + timedelta(days=30)) == 0
    assert timer_events(deployed, instance_id) == []
    assert pb.open_task(deployed, deployed.actor("egs"), instance_id).name == pb.VOLLSTAENDIGKEIT_PRUEFEN


def test_case_view_lists_open_deadlines(deployed: Engine) -> None:
    start = clock.parse_iso("2025-04-01T10:00:00+02:00")
    with clock.frozen(start):
        instance_id = case_waiting_for_documents(deployed, frist_tage=14)
    view = deployed.case_view(deployed.actor("egs"), instance_id)
    assert view.deadlines, "the document deadline is listed"
    assert all(d.due_at > start for d in view.deadlines)
    assert view.deadlines == sorted(view.deadlines, key=lambda d: d.due_at)
