"""The case search: numbers for everyone who may open the case, names only where they are seen in full."""

from __future__ import annotations

from engine.api import Engine
from tests.support import pb
from tests.support.cases import CaseDriver
from tests.support.users import UserFactory, user_for

KEY = "07402//0095511"


def _handed_to_lsb(engine: Engine) -> CaseDriver:
    """A first claim the clerk completed and handed over: only LSB's 'Antrag übernehmen' is open."""
    case = CaseDriver(engine, pb.PROCESS, business_key=KEY)
    egs = engine.actor("egs")
    pb.walk_to_completeness_check(engine, egs, case.instance_id)
    case.complete(pb.VOLLSTAENDIGKEIT_PRUEFEN, pb.VOLLSTAENDIG)
    case.complete(pb.TERMINE_DOKUMENTIEREN, pb.termine())
    case.complete(pb.VERTEILEN, pb.VERTEILUNG)
    assert case.open_task_names() == [pb.UEBERNEHMEN]
    return case


def _found(engine: Engine, username: str, term: str) -> list[int]:
    return [hit.instance_id for hit in engine.search_cases(engine.actor(username), term)]


def test_clerk_finds_a_case_handed_over_to_lsb_by_its_number(deployed: Engine) -> None:
    case = _handed_to_lsb(deployed)
    for term in (KEY, "0095511", " 07402//00955 "):
        assert _found(deployed, "egs", term) == [case.instance_id], term
    [hit] = deployed.search_cases(deployed.actor("egs"), "0095511")
    assert hit.applicant_name == "Probstfeld, Jana" and not hit.masked
    case.complete(pb.UEBERNEHMEN, pb.UEBERNAHME)
    assert _found(deployed, "egs", KEY) == [case.instance_id], "completed cases are found too"
    assert _found(deployed, "lsb", "probstfeld") == [case.instance_id]


def test_names_are_matched_only_where_the_searcher_sees_them(deployed: Engine) -> None:
    case = _handed_to_lsb(deployed)
    assert _found(deployed, "egs", "probstf") == [case.instance_id]
    assert _found(deployed, "fdl", "probstfeld") == [], (
        "a lead outside the lanes sees initials: the name must not match"
    )
    assert _found(deployed, "fdl", "probstfeldx") == []
    [hit] = deployed.search_cases(deployed.actor("fdl"), KEY)
    assert hit.applicant_name == "P., J." and hit.masked
    assert _found(deployed, "tl", "probstfeld") == [case.instance_id], "TL works a lane of PB"
    assert _found(deployed, "audit", KEY) == [case.instance_id]


def test_search_stays_within_sites_and_separate_data(deployed: Engine, make_user: UserFactory) -> None:
    fb50_case = CaseDriver(deployed, "fb50_eingangsservice", site="56.6", business_key="FB50-4711")
    sgb2_lead = make_user("tl66", ("TL", "56.6"))
    assert deployed.search_cases(sgb2_lead, "FB50-4711") == [], "FB 50 cases stay closed to SGB II leads"
    assert _found(deployed, "fb50", "fb50-4711") == [fb50_case.instance_id]
    assert deployed.search_cases(user_for(deployed, "EGS", "56.6"), "FB50-4711")[0].instance_id == fb50_case.instance_id
    assert _found(deployed, "egs", "FB50-4711") == [], "another site"
    assert _found(deployed, "modeller", "FB50-4711") == []


def test_short_or_wildcard_terms_find_nothing_special(deployed: Engine) -> None:
    _handed_to_lsb(deployed)
    assert _found(deployed, "egs", "0") == [] and _found(deployed, "egs", "  ") == []
    assert _found(deployed, "egs", "%%") == [] and _found(deployed, "egs", "__") == []
