"""The case search page: linked for every role that may open cases, hits lead to the audited case page."""

from __future__ import annotations

import pytest

from engine.api import Engine
from tests.support.records import audit_events
from tests.support.web import ANMELDUNG, instance_of, post_form, start_case


@pytest.mark.parametrize(("username", "linked"), [("egs", True), ("lsb", True), ("ifk", True), ("tl", True),
                                                  ("fdl", True), ("fb50", True), ("audit", True),
                                                  ("modeller", False)])  # fmt: skip
def test_search_is_in_the_navigation_of_every_role_that_may_open_cases(client_for, username: str, linked: bool) -> None:
    client = client_for(username)
    assert ('href="/vorgaenge/suche"' in client.get("/").get_data(as_text=True)) is linked
    assert client.get("/vorgaenge/suche").status_code == (200 if linked else 403)


def test_search_finds_the_case_and_opening_it_is_audited(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs, key="07402//0096622")
    instance_id = instance_of(deployed, url)
    post_form(egs, url, ANMELDUNG)

    page = egs.get("/vorgaenge/suche?q=0096622").get_data(as_text=True)

    assert f'href="/vorgaenge/{instance_id}">07402//0096622</a>' in page
    assert "Probstfeld, Jana" in page and "1 Treffer" in page
    assert audit_events(deployed, "case_viewed") == [], "a list of hits is no case view"
    assert egs.get(f"/vorgaenge/{instance_id}").status_code == 200
    assert [e.instance_id for e in audit_events(deployed, "case_viewed", actor="egs")] == [instance_id]
    fdl_page = client_for("fdl").get("/vorgaenge/suche?q=probstfeld").get_data(as_text=True)
    assert "0 Treffer" in fdl_page and "Probstfeld, Jana" not in fdl_page, "the name is masked for the FDL"


def test_search_page_explains_short_terms_and_escapes_input(client_for) -> None:  # type: ignore[no-untyped-def]
    egs = client_for("egs")
    assert "mindestens 3 Zeichen" in egs.get("/vorgaenge/suche?q=07").get_data(as_text=True)
    page = egs.get("/vorgaenge/suche?q=<script>x</script>").get_data(as_text=True)
    assert "<script>x</script>" not in page and "Kein Vorgang gefunden" in page
