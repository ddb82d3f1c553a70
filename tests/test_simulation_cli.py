"""``egs simulate``: the comparison on the command line, entered arrivals, refusals with exit code 2."""

from __future__ import annotations

from tests.support.engines import PROCESSES
from tests.test_cli import run


def test_simulate_prints_both_scenarios_and_the_vzae_needed(db_url: str) -> None:
    run(db_url, "deploy", str(PROCESSES))
    args = ("simulate", "--standort", "56.4", "--zugang", "pb_antragsannahme=8", "--laeufe", "1", "--abwesenheit", "5")
    result = run(db_url, *args)
    assert result.exit_code == 0, result.output
    assert "Wie jetzt" in result.output and "Plus eine umgesetzte LSB-Kraft" in result.output
    assert "Benötigte VZÄ im EGS, um die Frist zu halten:" in result.output
    assert run(db_url, *args).output.split("Rechenzeit")[0] == result.output.split("Rechenzeit")[0]  # seeded


def test_simulate_refuses_bad_input(db_url: str) -> None:
    run(db_url, "deploy", str(PROCESSES))
    unknown = run(db_url, "simulate", "--zugang", "gibt_es_nicht=3")
    assert unknown.exit_code == 2 and "kein Prozess dieses Standorts" in unknown.output
    malformed = run(db_url, "simulate", "--zugang", "pb_antragsannahme=viele")
    assert malformed.exit_code == 2 and "PROZESS=ANZAHL" in malformed.output
    hostile = run(db_url, "simulate", "--vzae", "1e9")
    assert hostile.exit_code == 2 and "VZÄ zwischen 0 und 100" in hostile.output
