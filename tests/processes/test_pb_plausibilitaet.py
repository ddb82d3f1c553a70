"""PB – Antragsannahme: implausible data is refused by the engine before it reaches the LSB (rules in forms/*.json).

Each rule both ways through ``Engine.complete_task`` (the step checks the submission where it runs, with the
case's data, e.g. the Tag der Antragstellung recorded two steps earlier).
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.api import Engine
from engine.errors import FormValidationError
from tests.support import pb
from tests.support.cases import CaseDriver

CLAIM_DAY = "2025-03-03"


def registered(engine: Engine) -> CaseDriver:
    case = CaseDriver(engine, pb.PROCESS)
    case.complete(pb.ANMELDEN, pb.anmeldung(tag_der_antragstellung=CLAIM_DAY))
    return case


def refused(case: CaseDriver, name: str, data: dict[str, Any]) -> dict[str, list[str]]:
    """Completing ``name`` is refused; the task stays open."""
    task = case.task(name).task_uuid
    with pytest.raises(FormValidationError) as caught:
        case.complete(name, data)
    assert task in [t.task_uuid for t in case.open_tasks()]
    return caught.value.field_errors


def test_ausweis_der_vor_dem_tag_der_antragstellung_ablief_wird_abgelehnt(deployed: Engine) -> None:
    case = registered(deployed)
    errors = refused(case, pb.ANNEHMEN, {**pb.ANTRAGSANNAHME, "ausweis_gueltig_bis": "2025-03-02"})
    assert list(errors) == ["ausweis_gueltig_bis"]
    assert errors["ausweis_gueltig_bis"][0].startswith("Das Ausweisdokument war am Tag der Antragstellung bereits")
    case.complete(pb.ANNEHMEN, {**pb.ANTRAGSANNAHME, "ausweis_gueltig_bis": CLAIM_DAY})
    assert case.open_task_names() == [pb.BG_ERFASSEN], "valid on the claim day: accepted"


def test_compass_datum_bei_noch_nicht_erfasstem_antrag_wird_abgelehnt(deployed: Engine) -> None:
    case = registered(deployed)
    errors = refused(case, pb.ANNEHMEN, {**pb.ANTRAGSANNAHME, "compass_erfasst_am": "2025-02-11"})
    assert list(errors) == ["compass_erfasst_am"] and "Noch in keinem System erfasst" in errors["compass_erfasst_am"][0]
    case.complete(
        pb.ANNEHMEN, {**pb.ANTRAGSANNAHME, "compass_stand": "erfasst_ohne_lsb", "compass_erfasst_am": "2025-02-11"}
    )
    assert case.data["compass_erfasst_am"] == "2025-02-11"


def test_bedarfsgemeinschaft_mit_zwei_kindern_und_einer_person_wird_abgelehnt(deployed: Engine) -> None:
    case = registered(deployed)
    case.complete(pb.ANNEHMEN, pb.ANTRAGSANNAHME)
    bg = {**pb.BEDARFSGEMEINSCHAFT, "rollen_in_bg": ["antragsteller", "kind_unter_15"], "anzahl_kinder_unter_15": 2}
    errors = refused(case, pb.BG_ERFASSEN, bg)
    assert list(errors) == ["anzahl_personen_bg"]
    case.complete(pb.BG_ERFASSEN, {**bg, "anzahl_personen_bg": 3})
    assert case.data["anzahl_personen_bg"] == 3


def test_vollstaendig_mit_fehlender_unterlage_wird_abgelehnt_auch_bei_der_vorpruefung(deployed: Engine) -> None:
    case = CaseDriver(deployed, pb.PROCESS)
    pb.walk_to_completeness_check(deployed, deployed.actor("egs"), case.instance_id)
    errors = refused(case, pb.VOLLSTAENDIGKEIT_PRUEFEN, {**pb.VOLLSTAENDIG, "fehlende_unterlagen": ["kontoauszuege"]})
    assert list(errors) == ["fehlende_unterlagen"]
    case.complete(pb.VOLLSTAENDIGKEIT_PRUEFEN, {**pb.VOLLSTAENDIG, "vorpruefung_lsb": True, "fehlende_unterlagen": []})
    vorpruefung = {"unterlagen_vollstaendig": True, "vorpruefung_vermerk": "Vermögen geprüft."}
    errors = refused(case, pb.VORPRUEFEN, {**vorpruefung, "fehlende_unterlagen": ["anlage_vm"]})
    assert list(errors) == ["fehlende_unterlagen"]
    case.complete(pb.VORPRUEFEN, vorpruefung)
    assert case.open_task_names() == [pb.TERMINE_DOKUMENTIEREN]
