"""Who may do what: the role × site × action table is the specification of ``engine.permissions``.

Every role holds one grant at site 56.6 ("eigener Standort"); 56.7 is a foreign site that offers the same
processes (FB 50 included). A cell says where the action is allowed:

- ``ja``       at its own and at a foreign site (actions that are not tied to a site)
- ``eigener``  at its own site only
- ``nein``     nowhere

Each cell is checked through the engine API on real cases, not by calling the predicates, so the table
also proves that the engine asks the permission module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count

import pytest

from engine import clock, permissions
from engine.api import Engine
from engine.audit_search import CaseQuery
from engine.auth import Actor, system_actor
from engine.errors import NotFoundError, PermissionDeniedError, PurposeRequiredError, RuleViolationError
from engine.models import PaymentListEntry
from engine.payment_cancellation import CancelStep
from engine.vocabulary import GROUPS as ALL_GROUPS
from tests.support.cases import CaseDriver
from tests.support.engines import DATA
from tests.support.foreign import SIGNAVIO
from tests.support.users import PASSWORD, user_factory

TABLE = """
Aktion                                       EGS      LSB      IFK      TL       FDL      FB50     MODELLER AUDIT    ADMIN
Antrag (PB) starten                          eigener  nein     nein     nein     nein     nein     nein     nein     nein
EGS-Aufgabe eines Antrags bearbeiten         eigener  nein     nein     nein     nein     nein     nein     nein     nein
Antrag (PB) ansehen                          eigener  eigener  nein     eigener  eigener  nein     nein     eigener  nein
Besuchervorgang ansehen                      eigener  eigener  eigener  eigener  eigener  nein     nein     eigener  nein
FB-50-Stichwort im Besuchervorgang sehen     eigener  nein     nein     nein     nein     nein     nein     nein     nein
FB-50-Vorgang ansehen                        eigener  nein     nein     nein     nein     eigener  nein     eigener  nein
Antrag (PB) in der Vorgangssuche finden      eigener  eigener  nein     eigener  eigener  nein     nein     eigener  nein
FB-50-Vorgang in der Vorgangssuche finden    eigener  nein     nein     nein     nein     eigener  nein     eigener  nein
Priorität und Fälligkeit setzen (Leitung)    nein     nein     nein     eigener  eigener  nein     nein     nein     nein
Aufgabe neu zuweisen (Leitung)               nein     nein     nein     eigener  eigener  nein     nein     nein     nein
FB-50-Vorgang steuern (SGB-II-Leitung)       nein     nein     nein     nein     nein     nein     nein     nein     nein
Sammelliste lesen                            eigener  nein     eigener  eigener  eigener  nein     nein     eigener  nein
Zahlung der Sammelliste stornieren           eigener  nein     nein     nein     nein     nein     nein     nein     nein
Prozessmodell bereitstellen                  nein     nein     nein     nein     nein     nein     ja       nein     nein
Modellentwurf anlegen und ändern             nein     nein     nein     nein     nein     nein     ja       nein     nein
Probelauf eines Entwurfs durchführen         nein     nein     nein     nein     nein     nein     ja       nein     nein
Vorgänge auf andere Version umziehen         nein     nein     nein     nein     nein     nein     ja       nein     nein
Modell hochladen (Entwurf/Dokumentation)     nein     nein     nein     nein     nein     nein     ja       nein     nein
Anträge auf Freigabe sehen und entscheiden   nein     nein     nein     nein     nein     nein     ja       nein     nein
Audit-Trail prüfen                           nein     nein     nein     nein     nein     nein     nein     ja       nein
Audit-Trail verankern                        nein     nein     nein     nein     nein     nein     nein     ja       nein
Löschsperre setzen und aufheben              nein     nein     nein     nein     nein     nein     nein     ja       nein
Revision: Vorgänge durchsuchen               nein     nein     nein     nein     nein     nein     nein     ja       nein
Revision: Verlauf eines Antrags (PB) lesen   nein     nein     nein     nein     nein     nein     nein     eigener  nein
Benutzer anlegen                             nein     nein     nein     nein     nein     nein     nein     nein     ja
Sitzungen anderer Benutzer beenden           nein     nein     nein     nein     nein     nein     nein     nein     ja
Vorgänge exportieren, Prozessansicht         nein     nein     nein     nein     nein     nein     nein     eigener  nein
"""

OWN, FOREIGN = "56.6", "56.7"
KENNTNIS = "2025-03-04T08:15:00+01:00"


def _parse(table: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    lines = [line for line in table.strip().splitlines() if line.strip()]
    groups = lines[0].split()[1:]
    rows: dict[str, dict[str, str]] = {}
    for line in lines[1:]:
        action, cells = line[:45].strip(), line[45:].split()
        assert len(cells) == len(groups), f"Zeile „{action}“ hat {len(cells)} statt {len(groups)} Zellen"
        rows[action] = dict(zip(groups, cells, strict=True))
    return groups, rows


GROUPS, ROWS = _parse(TABLE)


@dataclass
class World:
    """Users of every group at the own site and cases at the own and a foreign site."""

    engine: Engine
    users: dict[str, Actor] = field(default_factory=dict)
    pb: dict[str, CaseDriver] = field(default_factory=dict)
    visit: dict[str, CaseDriver] = field(default_factory=dict)
    fb50: dict[str, CaseDriver] = field(default_factory=dict)
    serial: count[int] = field(default_factory=count)


@pytest.fixture
def world(deployed: Engine) -> World:
    make = user_factory(deployed)
    world = World(deployed, {group: make(f"{group.lower()}_eigen", (group, OWN)) for group in GROUPS})
    for site in (OWN, FOREIGN):
        world.pb[site] = CaseDriver(deployed, "pb_antragsannahme", site=site)
        world.visit[site] = CaseDriver(deployed, "besuchersteuerung", site=site)
        world.visit[site].complete(
            "Besucher anmelden und Anliegen einordnen",
            {"vorname": "Mira", "nachname": "Hollenstedt", "anliegen": "fb50", "fb50_stichwort": "Grundsicherung"},
        )
        payload = {"vorname": "Olga", "nachname": "Wendehals", "anliegen_text": "Miete", "kenntnis_am": KENNTNIS}
        world.fb50[site] = CaseDriver.by_message(deployed, "fb50_eingangsservice", "Anliegen FB 50", payload, site=site)
    return world


def _refused(action: Callable[[], object]) -> bool:
    try:
        action()
    except PermissionDeniedError:
        return False
    return True


def _first_task(case: CaseDriver) -> str:
    return case.open_tasks()[0].task_uuid


Probe = Callable[[World, Actor, str], bool]


def start_pb(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.start_case(actor, "pb_antragsannahme", site=site))


def work_egs_task(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.task_view(actor, _first_task(w.pb[site])))


def view_pb(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.case_view(actor, w.pb[site].instance_id))


def view_visit(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.case_view(actor, w.visit[site].instance_id))


def see_fb50_keyword(w: World, actor: Actor, site: str) -> bool:
    try:
        view = w.engine.case_view(actor, w.visit[site].instance_id)
    except PermissionDeniedError:
        return False
    in_history = any("fb50_stichwort" in entry.details.get("data", {}) for entry in view.history)
    assert in_history == ("fb50_stichwort" in view.data), "data and history must agree"
    return in_history


def view_fb50(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.case_view(actor, w.fb50[site].instance_id))


def _finds(w: World, actor: Actor, case: CaseDriver) -> bool:
    return case.instance_id in [hit.instance_id for hit in w.engine.search_cases(actor, case.header.business_key)]


def find_pb(w: World, actor: Actor, site: str) -> bool:
    return _finds(w, actor, w.pb[site])


def find_fb50(w: World, actor: Actor, site: str) -> bool:
    return _finds(w, actor, w.fb50[site])


def steer(w: World, actor: Actor, site: str) -> bool:
    task = _first_task(w.pb[site])
    allowed = _refused(lambda: w.engine.set_priority(actor, task, 2))
    assert allowed == _refused(lambda: w.engine.set_due(actor, task, None)), "priority and due date go together"
    return allowed


def reassign(w: World, actor: Actor, site: str) -> bool:
    task = _first_task(w.pb[site])
    try:
        w.engine.reassign(actor, task, None, "Urlaub")
    except PermissionDeniedError:
        return False
    except RuleViolationError:  # allowed, but nobody holds the task
        return True
    return True


def steer_fb50(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.set_priority(actor, _first_task(w.fb50[site]), 2))


def read_payment_list(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.payment_list(actor, site, "EGZ", "2025-05"))


def cancel_payment(w: World, actor: Actor, site: str) -> bool:
    with w.engine.db.transaction() as session:
        entry = PaymentListEntry(
            site=site, measure_type="EQ", pay_month="2025-05", recipient="Firma", amount_cents=100,
            instance_id=None, business_key=None, approved_by="x", created_at=clock.now(),
        )  # fmt: skip
        session.add(entry)
        session.flush()
        entry_id = entry.id
    try:
        w.engine.cancel_payment(actor, entry_id, CancelStep.REQUEST, "Doppelt erfasst")
    except (PermissionDeniedError, NotFoundError):
        return False
    return True


def deploy(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.deploy_paths([DATA / "timedate.bpmn"], actor, DATA / "forms"))


def edit_model_draft(w: World, actor: Actor, site: str) -> bool:
    def attempt() -> None:
        draft = w.engine.create_model_draft(actor, "pb_antragsannahme")
        w.engine.save_model_draft(actor, draft.id, draft.lock_version, name="Entwurf zum Test")

    return _refused(attempt)


def run_trial(w: World, actor: Actor, site: str) -> bool:
    draft = w.engine.create_model_draft(system_actor("test"), "pb_antragsannahme")
    return _refused(lambda: w.engine.start_trial(actor, draft.id, site))


def migrate_cases(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.migrate_cases(actor, 1, []))


def upload_model(w: World, actor: Actor, site: str) -> bool:
    content = SIGNAVIO.read_bytes()
    return _refused(lambda: w.engine.upload_model(actor, "signavio.bpmn", content))


def decide_releases(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.model_releases(actor))


def verify_audit(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.verify_audit(actor))


def anchor_audit(w: World, actor: Actor, site: str) -> bool:
    return _refused(lambda: w.engine.anchor_audit(actor))


def legal_hold(w: World, actor: Actor, site: str) -> bool:
    def attempt() -> None:
        hold = w.engine.set_legal_hold(actor, "Verfahren 1/26", person=f"Person {next(w.serial)}")
        w.engine.lift_legal_hold(actor, hold.id, "erledigt")

    return _refused(attempt)


def search_on_workbench(w: World, actor: Actor, site: str) -> bool:
    try:
        w.engine.workbench.search_cases(actor, None, CaseQuery())
    except PermissionDeniedError:
        return False
    except PurposeRequiredError:  # permitted; the purpose comes next
        return True
    return True


def read_story_on_workbench(w: World, actor: Actor, site: str) -> bool:
    token = w.engine.login(actor.username, PASSWORD).token
    try:
        w.engine.workbench.state_purpose(actor, token, "pruefung", "PA-1")
        w.engine.workbench.story(actor, token, w.pb[site].instance_id)
    except PermissionDeniedError:
        return False
    return True


def create_user(w: World, actor: Actor, site: str) -> bool:
    name = f"neu{next(w.serial)}"
    return _refused(lambda: w.engine.create_user(actor, name, "Neu", "ein-langes-passwort", [("EGS", site)]))


def end_sessions_of_another(w: World, actor: Actor, site: str) -> bool:
    assert w.engine.end_sessions(actor, actor.username) == 0, "everybody may end their own sessions"
    return _refused(lambda: w.engine.end_sessions(actor, "egs"))


def export_cases(w: World, actor: Actor, site: str) -> bool:
    """Allowed and the site's cases in it (an auditor of another site gets none)."""
    try:
        result = w.engine.export(actor, "audit-csv", {"standort": site, "prozess": "pb_antragsannahme"})
        view = w.engine.process_view(actor, {"standort": site, "prozess": "pb_antragsannahme"})
    except PermissionDeniedError:
        return False
    assert result.rows == view.cases
    return result.rows > 0


PROBES: dict[str, tuple[Probe, bool]] = {  # action → (probe, bound to a site)
    "Antrag (PB) starten": (start_pb, True),
    "EGS-Aufgabe eines Antrags bearbeiten": (work_egs_task, True),
    "Antrag (PB) ansehen": (view_pb, True),
    "Besuchervorgang ansehen": (view_visit, True),
    "FB-50-Stichwort im Besuchervorgang sehen": (see_fb50_keyword, True),
    "FB-50-Vorgang ansehen": (view_fb50, True),
    "Antrag (PB) in der Vorgangssuche finden": (find_pb, True),
    "FB-50-Vorgang in der Vorgangssuche finden": (find_fb50, True),
    "Priorität und Fälligkeit setzen (Leitung)": (steer, True),
    "Aufgabe neu zuweisen (Leitung)": (reassign, True),
    "FB-50-Vorgang steuern (SGB-II-Leitung)": (steer_fb50, True),
    "Sammelliste lesen": (read_payment_list, True),
    "Zahlung der Sammelliste stornieren": (cancel_payment, True),
    "Prozessmodell bereitstellen": (deploy, False),
    "Modellentwurf anlegen und ändern": (edit_model_draft, False),
    "Probelauf eines Entwurfs durchführen": (run_trial, False),
    "Vorgänge auf andere Version umziehen": (migrate_cases, False),
    "Modell hochladen (Entwurf/Dokumentation)": (upload_model, False),
    "Anträge auf Freigabe sehen und entscheiden": (decide_releases, False),
    "Audit-Trail prüfen": (verify_audit, False),
    "Audit-Trail verankern": (anchor_audit, False),
    "Löschsperre setzen und aufheben": (legal_hold, False),
    "Revision: Vorgänge durchsuchen": (search_on_workbench, False),
    "Revision: Verlauf eines Antrags (PB) lesen": (read_story_on_workbench, True),
    "Benutzer anlegen": (create_user, False),
    "Sitzungen anderer Benutzer beenden": (end_sessions_of_another, False),
    "Vorgänge exportieren, Prozessansicht": (export_cases, True),
}
EXPECTED = {"ja": (True, True), "eigener": (True, False), "nein": (False, False)}


def test_every_row_of_the_table_has_a_probe_and_every_group_a_column() -> None:
    assert set(PROBES) == set(ROWS)
    assert sorted(GROUPS) == sorted(ALL_GROUPS)


@pytest.mark.parametrize("action", list(ROWS))
def test_role_site_action_table(world: World, action: str) -> None:
    probe, site_bound = PROBES[action]
    wrong = []
    for group in GROUPS:
        actor = world.users[group]
        own = probe(world, actor, OWN)
        foreign = probe(world, actor, FOREIGN) if site_bound else own
        if (own, foreign) != EXPECTED[ROWS[action][group]]:
            wrong.append(f"{group}: erwartet {ROWS[action][group]}, tatsächlich eigener={own}, fremder={foreign}")
    assert not wrong, f"{action}: " + "; ".join(wrong)


def test_refusals_in_the_table_are_audited(world: World) -> None:
    from tests.support.records import audit_events

    before = len(audit_events(world.engine, "access_denied", "lsb_eigen"))
    assert not view_fb50(world, world.users["LSB"], OWN)
    refusal = audit_events(world.engine, "access_denied", "lsb_eigen")[before:]
    assert [(e.instance_id, e.details["operation"]) for e in refusal] == [(world.fb50[OWN].instance_id, "view_case")]


def test_four_eyes_refuses_the_person_who_did_the_checked_step() -> None:
    clerk = Actor("erika", "Erika", frozenset({("EGS", OWN)}))
    assert not permissions.four_eyes_allows(clerk, {"erika", "tom"})
    assert permissions.four_eyes_allows(clerk, {"tom"})


def test_the_system_may_maintain_but_has_no_group() -> None:
    system = system_actor("cli")
    assert permissions.may_deploy(system) and permissions.may_read_audit_trail(system)
    assert permissions.may_manage_users(system) and permissions.may_read_payment_list(system, OWN)
    assert not permissions.may_work(system, "EGS", OWN) and not permissions.may_lead(system, OWN)
