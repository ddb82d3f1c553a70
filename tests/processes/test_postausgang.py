"""Path tests: Post- und Schriftverkehr, Postausgang (Konzept Ziffer 4.2) – Versand und Zustellnachweis."""

from __future__ import annotations

import pytest

from engine.api import Engine
from engine.errors import FormValidationError
from tests.support.cases import CaseDriver

PROCESS = "postausgang"
VERSENDEN = "Ausgangspost versenden"
NACHWEIS = "Zustellnachweis erfassen"


def schreiben(heute: str, versandart: str, **werte: object) -> dict:
    return {
        "absendendes_team": "LSB",
        "empfaenger": "Tamara Ellerbrock",
        "bezug_vorgangsnummer": "07402//0094744",
        "schreiben": "Aufforderung zur Mitwirkung",
        "versandart": versandart,
        "versandt_am": heute,
        **werte,
    }


@pytest.mark.parametrize(
    ("versandart", "werte"),
    [("brief", {}), ("einschreiben", {"sendungsnummer": "RR123456785DE"})],
    ids=["brief", "einwurf_einschreiben"],
)
def test_versand_ohne_zustellnachweis(deployed: Engine, versandart: str, werte: dict) -> None:
    case = CaseDriver(deployed, PROCESS)
    case.complete(VERSENDEN, schreiben(case.data["gestartet_am"], versandart, **werte))
    assert case.status == "completed"
    assert case.data["versandart"] == versandart


@pytest.mark.parametrize("versandart", ["einschreiben_rueckschein", "zustellungsurkunde"])
def test_zustellnachweis_wird_erfasst(deployed: Engine, versandart: str) -> None:
    case = CaseDriver(deployed, PROCESS)
    heute = case.data["gestartet_am"]
    with pytest.raises(FormValidationError) as refused:
        case.complete(VERSENDEN, schreiben(heute, versandart))
    assert list(refused.value.field_errors) == ["sendungsnummer"]
    case.complete(VERSENDEN, schreiben(heute, versandart, sendungsnummer="RR123456785DE"))
    assert [(t.name, t.lane) for t in case.open_tasks()] == [(NACHWEIS, "EGS")]
    case.complete(NACHWEIS, {"zugestellt_am": heute, "zustellung_erfolgreich": True})
    assert case.status == "completed"
    assert case.data["zugestellt_am"] == heute
