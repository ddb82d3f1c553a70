"""The cut-over rules of Konzept § 1 as decision tables (processes/umstellung_*.dmn).

Each decision is run through the engine by a small test process (umstellung/umstellung_probe.bpmn) on dates on
both sides of every boundary day. The dates live in config/egs.toml ([umstellung]), not in the tables: a second
configuration moves the outcome.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.api import Engine
from engine.auth import system_actor
from engine.demo import create_demo_users
from engine.errors import ModelError
from engine.model_loader import ModelFile
from tests.support.cases import CaseDriver
from tests.support.engines import PROCESSES, engine_with_config

HERE = Path(__file__).resolve().parent / "umstellung"
DECISIONS = sorted(PROCESSES.glob("umstellung_*.dmn"))
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def _dmn13_schema() -> etree.XMLSchema:
    import SpiffWorkflow.dmn.parser as dmn_parser

    return etree.XMLSchema(etree.parse(str(Path(dmn_parser.__file__).parent / "schema" / "DMN13.xsd")))


def deploy_probe(engine: Engine, decisions: list[ModelFile] | None = None) -> None:
    files = [ModelFile.from_path(HERE / "umstellung_probe.bpmn")]
    files += decisions if decisions is not None else [ModelFile.from_path(p) for p in DECISIONS]
    engine.deploy_files(files, system_actor("test"), HERE)
    create_demo_users(engine)


def decide(engine: Engine, stichtag: str, compass_stand: str = "nicht_erfasst") -> dict[str, Any]:
    case = CaseDriver(engine, "umstellung_probe")
    case.complete("Stichtag eingeben", {"stichtag": stichtag, "compass_stand": compass_stand})
    assert case.status == "completed"
    data = case.data
    keys = (
        "zahlungssystem",
        "ifk_unterstuetzung_neu",
        "umstellung_phase",
        "aktenfuehrung",
        "neuanlage_open_prosoz",
        "neuanlage_grund",
    )
    return {k: data[k] for k in keys}


def test_entscheidungstabellen_sind_gueltiges_dmn_1_3_mit_einer_entscheidung_je_datei() -> None:
    schema = _dmn13_schema()
    ids = []
    for path in DECISIONS:
        document = etree.parse(str(path))
        assert schema.validate(document), (path.name, schema.error_log.last_error)
        root = document.getroot()
        assert etree.QName(root).namespace == DMN13
        [decision] = root.findall(f"{{{DMN13}}}decision")
        ids.append(decision.get("id"))
        assert path.stem == decision.get("id"), "file name = stable decision id"
        table = decision.find(f"{{{DMN13}}}decisionTable")
        assert table.get("hitPolicy") == "FIRST"
        last = table.findall(f"{{{DMN13}}}rule")[-1]
        assert {e.findtext(f"{{{DMN13}}}text") for e in last.findall(f"{{{DMN13}}}inputEntry")} == {"-"}, "catch-all"
        texts = [t.text or "" for t in root.iter(f"{{{DMN13}}}text")]
        assert not any(re.search(r"20\d\d-\d\d-\d\d", t) for t in texts), "no dates in the tables: konfig()"
    assert ids == [
        "umstellung_akte",
        "umstellung_ifk_neu",
        "umstellung_neuanlage",
        "umstellung_phase",
        "umstellung_zahlungssystem",
    ]


def test_ungueltiges_dmn_wird_beim_bereitstellen_abgelehnt(engine: Engine) -> None:
    broken = (
        (PROCESSES / "umstellung_phase.dmn")
        .read_text(encoding="utf-8")
        .replace('hitPolicy="FIRST"', 'hitPolicy="ERSTE"')
    )
    files = [ModelFile.from_path(p) for p in DECISIONS if p.name != "umstellung_phase.dmn"]
    with pytest.raises(ModelError, match="umstellung_phase.dmn"):
        deploy_probe(engine, [*files, ModelFile("umstellung_phase.dmn", broken.encode())])


@pytest.mark.parametrize(
    ("stichtag", "zahlungssystem", "ifk_neu", "phase"),
    [
        ("2025-02-16", "compass", False, "vor_parallelbetrieb"),
        ("2025-02-17", "compass", False, "parallelbetrieb"),
        ("2025-03-20", "compass", False, "parallelbetrieb"),
        ("2025-03-21", "open_prosoz", False, "parallelbetrieb"),
        ("2025-03-31", "open_prosoz", False, "parallelbetrieb"),
        ("2025-04-01", "open_prosoz", True, "nach_parallelbetrieb"),
    ],
)
def test_zahlungssystem_ifk_und_phase_an_den_grenztagen(
    engine: Engine, stichtag: str, zahlungssystem: str, ifk_neu: bool, phase: str
) -> None:
    deploy_probe(engine)
    result = decide(engine, stichtag)
    assert (result["zahlungssystem"], result["ifk_unterstuetzung_neu"], result["umstellung_phase"]) == (
        zahlungssystem,
        ifk_neu,
        phase,
    )
    assert result["aktenfuehrung"] == "papier", "Doxis start not configured: paper file"


@pytest.mark.parametrize(
    ("stichtag", "compass_stand", "neu_anlegen", "grund"),
    [
        ("2025-02-11", "erfasst_mit_lsb", False, "migriert"),
        ("2025-02-12", "erfasst_mit_lsb", True, "nach_stichtag_erfasst"),
        ("2025-02-11", "erfasst_ohne_lsb", True, "nicht_migriert"),
        ("2025-02-12", "erfasst_ohne_lsb", True, "nach_stichtag_erfasst"),
        ("2025-02-11", "nicht_erfasst", True, "neuantrag"),
        ("2025-02-12", "nicht_erfasst", True, "neuantrag"),
        ("2025-02-11", "unbekannt", True, "pruefen"),
    ],
)
def test_neuanlage_in_open_prosoz_am_migrationsstichtag(
    engine: Engine, stichtag: str, compass_stand: str, neu_anlegen: bool, grund: str
) -> None:
    deploy_probe(engine)
    result = decide(engine, stichtag, compass_stand)
    assert (result["neuanlage_open_prosoz"], result["neuanlage_grund"]) == (neu_anlegen, grund)


@pytest.mark.parametrize(
    ("stichtag", "akte"), [("2025-06-30", "papier"), ("2025-07-01", "eakte"), ("2026-01-02", "eakte")]
)
def test_e_akte_ab_dem_konfigurierten_doxis_start(
    engine: Engine, db_url: str, tmp_path: Path, stichtag: str, akte: str
) -> None:
    deploy_probe(engine)
    assert decide(engine, stichtag)["aktenfuehrung"] == "papier", "open start date: paper file"
    with engine_with_config(db_url, tmp_path, doxis_start='"2025-07-01"') as doxis:
        assert decide(doxis, stichtag)["aktenfuehrung"] == akte


def test_stichtage_kommen_aus_der_konfiguration(engine: Engine, db_url: str, tmp_path: Path) -> None:
    deploy_probe(engine)
    assert decide(engine, "2025-03-21")["zahlungssystem"] == "open_prosoz"
    with engine_with_config(
        db_url,
        tmp_path,
        zahlfaelle_compass_bis='"2025-03-25"',
        ifk_unterstuetzung_neu_ab='"2025-03-15"',
        parallelbetrieb_beginn='"2025-03-22"',
        migration_stichtag='"2025-02-14"',
    ) as moved:
        result = decide(moved, "2025-03-21", "erfasst_mit_lsb")
    assert result["zahlungssystem"] == "compass"
    assert result["ifk_unterstuetzung_neu"] is True
    assert result["umstellung_phase"] == "vor_parallelbetrieb"
    assert (result["neuanlage_open_prosoz"], result["neuanlage_grund"]) == (True, "nach_stichtag_erfasst")


BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _model_code(path: Path) -> list[str]:
    """The Python a model runs: scripts, pre/post scripts, conditions, timer and message expressions."""
    root = etree.parse(str(path)).getroot()
    tags = (f"{{{BPMN}}}script", f"{{{BPMN}}}conditionExpression", f"{{{SPIFF}}}preScript", f"{{{SPIFF}}}postScript")
    return [element.text or "" for tag in tags for element in root.iter(tag)]


def test_prozesse_entscheiden_die_umstellung_nur_ueber_die_entscheidungstabellen() -> None:
    """Konzept § 1: wherever a cut-over date decides, a process calls an umstellung_* table; no script or
    condition compares with konfig("umstellung.…") itself (there were copies in both IFK processes)."""
    offenders = [
        (path.name, code.strip()[:80])
        for path in sorted(PROCESSES.glob("*.bpmn"))
        for code in _model_code(path)
        if "umstellung." in code
    ]
    assert offenders == []
    callers = {
        path.stem
        for path in PROCESSES.glob("*.bpmn")
        if any(e.text.startswith("umstellung_") for e in etree.parse(str(path)).iter(f"{{{SPIFF}}}calledDecisionId"))
    }
    assert {"ifk_unterstuetzung", "ifk_fahrtkosten", "akten_zuarbeit", "pb_antragsannahme"} <= callers


def test_ausgaben_der_tabellen_werden_in_den_prozessen_gleich_geschrieben() -> None:
    """One spelling: every value a process compares a table output with is a value the table can return."""
    outputs: dict[str, set[str]] = {}
    for path in DECISIONS:
        root = etree.parse(str(path)).getroot()
        names = [o.get("name") for o in root.iter(f"{{{DMN13}}}output")]
        for rule in root.iter(f"{{{DMN13}}}rule"):
            for name, entry in zip(names, rule.findall(f"{{{DMN13}}}outputEntry"), strict=True):
                outputs.setdefault(name, set()).add((entry.findtext(f"{{{DMN13}}}text") or "").strip())
    compared = [
        (path.name, name, f'"{value}"')
        for path in sorted(PROCESSES.glob("*.bpmn"))
        for code in _model_code(path)
        for name, value in re.findall(r'\b(\w+) == "([^"]*)"', code)
        if name in outputs
    ]
    assert compared, "the processes branch on table outputs"
    assert [c for c in compared if c[2] not in outputs[c[1]]] == []
    assert outputs["zahlungssystem"] == {'"compass"', '"open_prosoz"'}
