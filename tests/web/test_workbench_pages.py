"""The auditor's workbench: only for AUDIT, purpose first, every view audited with the purpose."""

from __future__ import annotations

import re

import pytest

from engine import case_rows
from engine.api import Engine
from engine.models import ProcessInstance
from tests.support.records import audit_events
from tests.support.web import ANMELDUNG, instance_of, login, post_form, start_case

PAGES = ["/revision/", "/revision/zweck", "/revision/vorgaenge", "/revision/taetigkeit", "/revision/antragsteller",
         "/revision/system"]  # fmt: skip
PURPOSE = {"zweck": "auskunft", "aktenzeichen": "DS-2026-17"}


def state_purpose(client, data=PURPOSE):  # type: ignore[no-untyped-def]
    return post_form(client, "/revision/zweck", data)


@pytest.mark.parametrize("username", ["egs", "lsb", "tl", "fdl", "modeller", "fb50", "ifk"])
def test_other_groups_get_403_and_no_link(client_for, deployed: Engine, username: str) -> None:
    client = client_for(username)
    assert 'href="/revision/"' not in client.get("/").get_data(as_text=True)
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    assert client.post("/revision/zweck", data=PURPOSE).status_code in (400, 403)
    refused = audit_events(deployed, "access_denied", actor=username)
    assert refused and refused[-1].details["operation"].startswith("workbench:")


def test_workbench_is_the_first_screen_of_the_audit_function(client) -> None:  # type: ignore[no-untyped-def]
    response = login(client, "audit")
    assert response.headers["Location"].endswith("/revision/")
    first = client.get("/revision/").get_data(as_text=True)
    assert "Zweck der Einsicht" in first and 'href="/revision/"' in first
    state_purpose(client)
    assert "Revision: Vorgänge aller Standorte" in client.get("/revision/").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/revision/vorgaenge", "/revision/taetigkeit?person=egs", "/revision/system",
                                 "/revision/antragsteller?name=Probst", "/revision/vorgaenge/1"])  # fmt: skip
def test_personal_data_only_after_a_purpose(client_for, deployed: Engine, url: str) -> None:
    audit = client_for("audit")
    response = audit.get(url)
    assert response.status_code == 302
    assert "/revision/zweck?next=" in response.headers["Location"]
    assert audit_events(deployed, "audit_viewed") == [] and audit_events(deployed, "case_viewed") == []


def test_purpose_form_refuses_bad_input_and_csrf(client_for, deployed: Engine) -> None:
    audit = client_for("audit")
    bad = state_purpose(audit, {"zweck": "neugier", "aktenzeichen": "x"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "aus der Liste" in page and "mindestens 3 Zeichen" in page
    assert audit.post("/revision/zweck", data=PURPOSE).status_code == 400, "no CSRF token"
    assert audit.get("/revision/vorgaenge").status_code == 302
    response = state_purpose(audit)
    assert response.status_code == 302 and response.headers["Location"].endswith("/revision/vorgaenge")
    [stated] = audit_events(deployed, "audit_purpose")
    assert stated.details == {"zweck": "auskunft", "zweck_text": "Auskunftsersuchen nach Art. 15 DSGVO",
                              "aktenzeichen": "DS-2026-17"}  # fmt: skip


def test_purpose_ends_with_the_session(client_for, app) -> None:  # type: ignore[no-untyped-def]
    audit = client_for("audit")
    state_purpose(audit)
    assert audit.get("/revision/vorgaenge").status_code == 200
    again = client_for("audit")  # a new login is a new sitting
    assert again.get("/revision/vorgaenge").status_code == 302


def test_auditor_finds_a_case_by_name_and_reads_its_story(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs, key="07402//0096622")
    instance_id = instance_of(deployed, url)
    post_form(egs, url, ANMELDUNG)
    egs.get(f"/vorgaenge/{instance_id}")
    audit = client_for("audit")
    state_purpose(audit)

    found = audit.get("/revision/vorgaenge?name=probstfeld").get_data(as_text=True)
    assert f'href="/revision/vorgaenge/{instance_id}"' in found and "Probstfeld, Jana" in found
    story = audit.get(f"/revision/vorgaenge/{instance_id}").get_data(as_text=True)

    assert "Vorgang gestartet" in story and "Schritt abgeschlossen" in story and "Vorgang angesehen" in story
    assert "EGS 56.4" in story, "the person's groups at the time"
    assert "Die Kette ist vollständig und unverändert" in story
    assert "Zeit pro Schritt" in story and " → " in story
    [search] = [e for e in audit_events(deployed, "audit_viewed") if e.details["ansicht"] == "vorgangssuche"]
    assert search.details["filter"] == {"name": "probstfeld", "sort": "geaendert"}
    assert search.details["aktenzeichen"] == "DS-2026-17"
    [view] = audit_events(deployed, "case_viewed", actor="audit")
    assert view.instance_id == instance_id and view.details["zweck"] == "auskunft"


def test_story_of_a_tampered_case_names_the_broken_event(client_for, deployed: Engine) -> None:
    import sqlalchemy as sa

    egs = client_for("egs")
    instance_id = instance_of(deployed, start_case(egs))
    with deployed.db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        else:
            session.execute(sa.text("DROP TRIGGER IF EXISTS audit_event_no_update"))
        first = session.scalar(sa.text("SELECT min(id) FROM audit_event WHERE instance_id = :i"), {"i": instance_id})
        session.execute(sa.text("UPDATE audit_event SET actor = 'x' WHERE id = :id"), {"id": first})
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    audit = client_for("audit")
    state_purpose(audit)
    page = audit.get(f"/revision/vorgaenge/{instance_id}").get_data(as_text=True)
    assert "nicht in Ordnung" in page and f"Ereignis {first}: Inhalt wurde verändert" in page


def test_person_views_and_system_record(client_for, app, deployed: Engine) -> None:
    egs = client_for("egs")
    url = start_case(egs, key="07402//0096623")
    post_form(egs, url, ANMELDUNG)
    login(app.test_client(), "egs", "falsch")  # a failed login for the system record
    audit = client_for("audit")
    state_purpose(audit)

    activity = audit.get("/revision/taetigkeit?person=egs").get_data(as_text=True)
    assert "Schritt abgeschlossen" in activity and "Vorgang gestartet" in activity and "0096623" in activity
    accesses = audit.get("/revision/antragsteller?name=Probstfeld").get_data(as_text=True)
    assert "1 Vorgänge mit diesem Namen" in accesses and "Schritt abgeschlossen" in accesses
    system = audit.get("/revision/system?aktion=login_failed").get_data(as_text=True)
    assert "<td>Anmeldung fehlgeschlagen</td>" in system and "<td>Schritt abgeschlossen</td>" not in system
    assert "Zweck: Auskunftsersuchen" in audit.get("/revision/system?aktion=audit_purpose").get_data(as_text=True)
    pages = [e.details["ansicht"] for e in audit_events(deployed, "audit_viewed")]
    assert pages == ["taetigkeit", "antragsteller", "systemprotokoll", "systemprotokoll"]


@pytest.mark.parametrize("url", ["/revision/vorgaenge?nach=xyz", "/revision/system?nach=W10=",
                                 "/revision/vorgaenge?sortierung=neu&nach=" + "A" * 400])  # fmt: skip
def test_crafted_cursors_are_400(client_for, url: str) -> None:
    audit = client_for("audit")
    state_purpose(audit)
    assert audit.get(url).status_code == 400


def test_hostile_filters_are_escaped_and_bad_dates_explained(client_for) -> None:  # type: ignore[no-untyped-def]
    audit = client_for("audit")
    state_purpose(audit)
    page = audit.get("/revision/vorgaenge?name=<script>x</script>&von=31.02.2026&nummer=%25").get_data(as_text=True)
    assert "<script>x</script>" not in page and "Format TT.MM.JJJJ" in page and "Kein Vorgang gefunden" in page
    assert audit.get("/revision/vorgaenge/999999").status_code == 404


def test_case_search_sorts_oldest_first(client_for, deployed: Engine) -> None:
    egs = client_for("egs")
    ids = [instance_of(deployed, start_case(egs, key=f"07402//00966{n:02d}")) for n in range(3)]
    audit = client_for("audit")
    state_purpose(audit)

    html = audit.get("/revision/vorgaenge?nummer=07402//00966&sortierung=alt").get_data(as_text=True)

    assert [int(n) for n in re.findall(r'href="/revision/vorgaenge/(\d+)"', html)] == sorted(ids)


def test_the_staff_case_page_sends_the_audit_function_to_the_workbench(client_for, deployed: Engine) -> None:
    instance_id = instance_of(deployed, start_case(client_for("egs")))
    audit = client_for("audit")
    response = audit.get(f"/vorgaenge/{instance_id}")
    assert response.headers["Location"].endswith(f"/revision/vorgaenge/{instance_id}")
    assert "/revision/zweck" in audit.get(response.headers["Location"]).headers["Location"], "purpose first"
    assert audit_events(deployed, "case_viewed", actor="audit") == []


def test_short_terms_are_explained_and_umlauts_found(client_for, deployed: Engine) -> None:  # type: ignore[no-untyped-def]
    egs = client_for("egs")
    instance_id = instance_of(deployed, start_case(egs, key="07402//0096701"))
    with deployed.db.transaction() as session:
        row = session.get(ProcessInstance, instance_id)
        assert row is not None
        case_rows.update_case(session, instance_id, row.lock_version, {"applicant_name": "Müller, Jürgen"})
    audit = client_for("audit")
    state_purpose(audit)

    short = audit.get("/revision/vorgaenge?name=ab&nummer=x").get_data(as_text=True)
    assert "mindestens 3 Zeichen des Namens" in short and 'aria-describedby="name-fehler"' in short
    assert "Bitte die Vorgangsnummer oder mindestens 3 Zeichen" in short and "Kein Vorgang gefunden" in short
    found = audit.get("/revision/vorgaenge?name=MUELLER").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/revision/vorgaenge/(\d+)"', found)] == [instance_id]
    assert "Müller, Jürgen" in found and "fehlertext" not in found
