"""``egs migrate``: the dry run on the command line, then the move of what can move (confirmed mappings only)."""

from __future__ import annotations

from engine.api import Engine
from tests.support import migration_models as mm
from tests.support.records import case_row
from tests.support.users import UserFactory
from tests.test_cli import run

A, B, B2 = ("Task_A", "Antrag erfassen"), ("Task_B", "Antrag prüfen"), ("Task_B2", "Antrag gründlich prüfen")


def test_migrate_zeigt_probelauf_und_zieht_mit_zuordnung_um(
    engine: Engine, db_url: str, make_user: UserFactory
) -> None:
    clerk = make_user("sachb", ("EGS", "56.4"))
    mm.deploy(engine, "mig_cli", mm.model("mig_cli", [A, B]))
    at_b, at_a = mm.start(engine, clerk, "mig_cli"), mm.start(engine, clerk, "mig_cli")
    mm.complete(engine, clerk, at_b)
    mm.deploy(engine, "mig_cli", mm.model("mig_cli", [A, B2]))
    key_b, key_a = case_row(engine, at_b).business_key, case_row(engine, at_a).business_key

    dry = run(db_url, "migrate", "mig_cli", "--von", "1", "--nach", "2")
    assert dry.exit_code == 0, dry.output
    assert f"{key_b}\tbraucht eine Zuordnung\tTask_B → ?" in dry.output
    assert f"{key_a}\tkann umziehen" in dry.output
    assert case_row(engine, at_b).version_id == case_row(engine, at_a).version_id  # nothing moved

    bad = run(db_url, "migrate", "mig_cli", "--von", "1", "--nach", "2", "--zuordnung", "Task_B")
    assert bad.exit_code == 2 and "ALTE_ID=NEUE_ID" in bad.output
    done = run(
        db_url, "migrate", "mig_cli", "--von", "1", "--nach", "2", "--zuordnung", "Task_B=Task_B2", "--ausfuehren"
    )
    assert done.exit_code == 0, done.output
    assert "2 von 2 Vorgängen umgezogen." in done.output
    assert mm.open_task(engine, at_b).task_spec_id == "Task_B2"
    missing = run(db_url, "migrate", "mig_cli", "--von", "1", "--nach", "5")
    assert missing.exit_code == 2 and "Fehler: Version 5" in missing.output
