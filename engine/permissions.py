"""Who may do what: every permission rule of the platform, each a named predicate.

The engine, the reports and the web layer ask these predicates and nothing else; templates get flags
computed here (``Flags``, and ``may_work``/``may_lead`` on task rows), never group names. The role × site ×
action table in ``tests/test_permissions.py`` is the specification.

Groups (``engine.vocabulary``): the work groups EGS, LSB, IFK, TL, FDL and FB50 are the lanes of the models;
MODELLER (process owners), AUDIT (internal audit, data-protection officer) and ADMIN (user administration)
are staff functions. A grant gives one group at one site, or at every site ('*'). The system (timer
worker, command line on the server) acts without grants and is trusted with maintenance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from . import clock
from .auth import Actor
from .models import Grant, HumanTask
from .vocabulary import ALL_SITES, LEAD_GROUPS, SITES, WORK_GROUPS

PAYMENT_LIST_READERS = ("EGS", "IFK", "TL", "FDL", "AUDIT")
# Who makes Sammelliste entries (Zahlkarte anlegen / bewilligen) also takes a wrong one off again.
PAYMENT_LIST_CANCELLERS = ("EGS",)
# Groups of other bodies whose data stays apart from SGB II data (FB 50: SGB XII, AsylbLG; concept § 5).
SEPARATE_DATA_GROUPS = ("FB50",)


# --- tasks and cases ----------------------------------------------------------------------------------------


def may_work(actor: Actor, lane: str, site: str) -> bool:
    """See, claim, save and complete tasks of ``lane`` at ``site``: members of that group at that site."""
    return actor.has_group(lane, site)


def may_lead(actor: Actor, site: str) -> bool:
    """Lead the work at ``site`` (Teamleitung, Fachdienstleitung): steer every task and see every case there."""
    return any(actor.has_group(group, site) for group in LEAD_GROUPS)


def lead_sites(actor: Actor) -> list[str]:
    """The sites the actor leads."""
    return [site for site in SITES if may_lead(actor, site)]


def leads_somewhere(actor: Actor) -> bool:
    return bool(lead_sites(actor))


def may_view_case(actor: Actor, lanes: Iterable[str], site: str) -> bool:
    """Open a case at ``site`` whose process has these lanes: who works one of its lanes there, the audit
    function of the site, and who leads the site (TL, FDL) – except cases holding another body's separate data
    (a process with an FB 50 lane), which only that body, the lanes working it and audit may open. Fields
    marked ``x-sichtbarFuer`` stay hidden from everybody else (``hidden_fields``)."""
    lanes = set(lanes)
    if any(may_work(actor, lane, site) for lane in lanes) or actor.has_group("AUDIT", site):
        return True
    return may_lead(actor, site) and _holds_separate_groups(actor, lanes, site)


def may_search_cases(actor: Actor) -> bool:
    """Use the case search: everyone who may open cases somewhere (work groups, leads, the audit function);
    each hit is still checked with ``may_view_case``."""
    return any(group in WORK_GROUPS or group == "AUDIT" for group, _ in actor.grants)


def sees_case_name(actor: Actor, lanes: Iterable[str], site: str) -> bool:
    """Applicant names in case lists and the case search: in full for who works one of the process's lanes at
    the case's site, as initials for everybody else (as ``sees_full_name`` in task lists)."""
    return any(may_work(actor, lane, site) for lane in lanes)


def may_steer_task(actor: Actor, site: str, lanes: Iterable[str] = ()) -> bool:
    """Set a task's (and its case's) priority or due date, take it from whoever holds it and give it to
    someone else or back to the group: the site's leads, in cases they may open (``lanes``: the lanes of the
    case's process; an SGB II lead does not steer an FB 50 case)."""
    return may_lead(actor, site) and _holds_separate_groups(actor, lanes, site)


def _holds_separate_groups(actor: Actor, lanes: Iterable[str], site: str) -> bool:
    return all(actor.has_group(group, site) for group in separate_groups(lanes))


def separate_groups(lanes: Iterable[str]) -> frozenset[str]:
    """The groups of other bodies among a process's lanes, whose cases stay closed to SGB II leads."""
    return frozenset(set(lanes) & set(SEPARATE_DATA_GROUPS))


def sees_full_name(actor: Actor, lane: str, site: str) -> bool:
    """Applicant names in task lists: in full for who works the task, as initials for everybody else."""
    return may_work(actor, lane, site)


def workable_tasks(actor: Actor) -> sa.ColumnElement[bool]:
    """SQL twin of ``may_work`` over the inbox table: tasks of the actor's groups at the actor's sites."""
    pairs = actor.work_pairs()
    if not pairs:
        return sa.false()
    return sa.or_(*(sa.and_(HumanTask.lane == lane, HumanTask.site == site) for lane, site in pairs))


def led_tasks(actor: Actor, separate: Mapping[str, Iterable[str]]) -> sa.ColumnElement[bool]:
    """SQL twin of ``may_steer_task``: every task at the sites the actor leads, except tasks of processes
    holding another body's data the actor does not belong to there (``separate``: process id → its
    ``separate_groups``)."""
    parts: list[sa.ColumnElement[bool]] = []
    for site in lead_sites(actor):
        closed = sorted(pid for pid, groups in separate.items() if not _holds_separate_groups(actor, groups, site))
        parts.append(sa.and_(HumanTask.site == site, HumanTask.process_id.not_in(closed)) if closed
                     else HumanTask.site == site)  # fmt: skip
    return sa.or_(*parts) if parts else sa.false()


def holders_of(group: str, site: str) -> sa.ColumnElement[bool]:
    """SQL twin of ``Actor.has_group`` over the grant table: grants of ``group`` valid at ``site`` now."""
    return sa.and_(
        Grant.group_code == group,
        Grant.site.in_((site, ALL_SITES)),
        sa.or_(Grant.valid_from.is_(None), Grant.valid_from <= clock.now()),
        sa.or_(Grant.valid_until.is_(None), Grant.valid_until > clock.now()),
    )


def four_eyes_allows(actor: Actor, did_checked_step: Iterable[str]) -> bool:
    """Four-eyes rule (property ``egsFourEyes``): nobody may do a step whose checked step they did themselves."""
    return actor.username not in set(did_checked_step)


# --- starting cases -----------------------------------------------------------------------------------------


def may_start(actor: Actor, start_lanes: Iterable[str], site: str) -> bool:
    """Start a case at ``site``: members of a start lane of the process at that site."""
    return any(may_work(actor, lane, site) for lane in start_lanes)


def start_sites(actor: Actor, start_lanes: Iterable[str], offered_at: Iterable[str] | None = None) -> list[str]:
    """The sites where the actor may start a process with these start lanes – only those where the process
    is offered (``offered_at``, the model's ``egsSites``; None: every site): FB 50 intake is not offered to a
    clerk at 56.4 only to be refused after the form."""
    lanes = tuple(start_lanes)
    offered = set(SITES if offered_at is None else offered_at)
    return [site for site in SITES if site in offered and may_start(actor, lanes, site)]


# --- case data ----------------------------------------------------------------------------------------------


def may_see_field(actor: Actor, visible_for: Iterable[str] | None, site: str) -> bool:
    """A field marked ``x-sichtbarFuer`` (groups) is shown only to those groups at the case's site, e.g. an
    FB 50 (SGB XII) concern only to EGS and FB 50; unmarked fields to everyone who may view the case."""
    groups = list(visible_for or ())
    return not groups or any(actor.has_group(group, site) for group in groups)


def hidden_fields(schemas: Mapping[str, Mapping[str, Any]], actor: Actor, site: str) -> set[str]:
    """Names of the fields (name → JSON schema) that the actor may not see in a case at ``site``."""
    return {name for name, schema in schemas.items() if not may_see_field(actor, schema.get("x-sichtbarFuer"), site)}


# --- reports, models, audit, users --------------------------------------------------------------------------


def may_book_petty_cash(username: str, custodian: str | None, deputy: str | None) -> bool:
    """Book in a site's petty-cash book: its custodian and the deputy, nobody else."""
    return username in (custodian, deputy)


def may_read_payment_list(actor: Actor, site: str) -> bool:
    """The monthly Sammellisten of a site: EGS, IFK, TL, FDL and the audit function of that site."""
    return actor.system or any(actor.has_group(group, site) for group in PAYMENT_LIST_READERS)


def payment_list_sites(actor: Actor) -> list[str]:
    return [site for site in SITES if may_read_payment_list(actor, site)]


def may_cancel_payment(actor: Actor, site: str) -> bool:
    """Ask for, confirm or discard the cancellation of a Sammelliste entry at ``site``: the EGS of that site, who
    makes the entries. Like the entry itself it needs two people: who asked may not confirm
    (``four_eyes_allows``)."""
    return any(actor.has_group(group, site) for group in PAYMENT_LIST_CANCELLERS)


def may_manage_staff(actor: Actor, site: str) -> bool:
    """Staff, absences and the staffing dashboard of a site are for its leads (TL, FDL) (§ 6/§ 7)."""
    return actor.system or may_lead(actor, site)


def staff_sites(actor: Actor) -> list[str]:
    return [site for site in SITES if may_manage_staff(actor, site)]


def may_decide_shares(actor: Actor, site: str) -> bool:
    """Only the site head (FDL) decides how the VZÄ shares count: as in the concept or normalised (§ 6)."""
    return actor.system or actor.has_group("FDL", site)


def may_redeploy(actor: Actor, site: str) -> bool:
    """Only the site head (FDL) moves LSB/IFK staff into the EGS of her site (§ 7)."""
    return actor.system or actor.has_group("FDL", site)


def may_deploy(actor: Actor) -> bool:
    """Deploy models (new process versions): process owners (MODELLER) and the system."""
    return actor.system or actor.has_group("MODELLER")


def may_edit_models(actor: Actor) -> bool:
    """Read, change and delete model drafts and open the "Modelle" pages: process owners (MODELLER, at any
    site) and the system; deploying them is ``may_deploy``."""
    return actor.system or actor.has_group("MODELLER")


def may_release_deploy(actor: Actor, requested_by: str) -> bool:
    """Release (or reject) a deploy that waits for a second process owner: process owners (MODELLER) other than
    the one who asked for it (four eyes, ``[modelle] freigabe_durch_zweite_person``)."""
    return actor.has_group("MODELLER") and actor.username != requested_by


def may_run_trials(actor: Actor) -> bool:
    """Start, work and throw away trial cases (Probelauf) of model drafts: process owners (MODELLER) only."""
    return actor.has_group("MODELLER")


def may_migrate_cases(actor: Actor) -> bool:
    """Move running cases from one version of a process to another (dry run and move): process owners (MODELLER,
    at any site) and the system. The pages show case numbers and task names, never case data."""
    return actor.system or actor.has_group("MODELLER")


def starts_on_models(actor: Actor) -> bool:
    """The first page after login is "Modelle" for a process owner who works no lane (an inbox would be empty)."""
    return may_edit_models(actor) and not actor.work_pairs()


def may_handle_incidents(actor: Actor, site: str) -> bool:
    """See, retry and cancel failed cases at ``site`` ("Störungen"): process owners (MODELLER) and the site's
    leads (TL, FDL) there, and the system. The page shows case numbers and errors, never case data."""
    return actor.system or actor.has_group("MODELLER", site) or may_lead(actor, site)


def may_handle_incident(actor: Actor, lanes: Iterable[str], site: str) -> bool:
    """Handle the incident of one case: process owners at its site; leads only of cases they may open
    (an SGB II lead does not see FB 50 cases, not even their case numbers and errors)."""
    if actor.system or actor.has_group("MODELLER", site):
        return True
    return may_lead(actor, site) and may_view_case(actor, lanes, site)


def incident_sites(actor: Actor) -> list[str]:
    """The sites whose incidents the actor handles."""
    return [site for site in SITES if may_handle_incidents(actor, site)]


def may_simulate(actor: Actor, site: str) -> bool:
    """Run the what-if simulation of a site's workload ("Was wäre wenn"): the site's leads (TL, FDL), who decide
    on staff and redeployments (§ 7), and the system (``egs simulate`` on the server). It shows counts and times,
    never case data."""
    return actor.system or may_lead(actor, site)


def simulation_sites(actor: Actor) -> list[str]:
    """The sites whose workload the actor may simulate."""
    return [site for site in SITES if may_simulate(actor, site)]


def may_read_audit_trail(actor: Actor) -> bool:
    """Read and verify the whole audit trail: the audit function and the system."""
    return actor.system or actor.has_group("AUDIT")


def may_export_cases(actor: Actor) -> bool:
    """Export cases as an event log (CSV, XES) and see the process heat map: the audit function (at the sites
    of its grants) and the system (command line on the server)."""
    return actor.system or actor.has_group("AUDIT")


def case_export_sites(actor: Actor) -> tuple[str, ...] | None:
    """The sites whose cases the actor may export; None: every site."""
    if actor.system or ("AUDIT", ALL_SITES) in actor.grants:
        return None
    return tuple(site for site in SITES if actor.has_group("AUDIT", site))


def may_hold_data(actor: Actor) -> bool:
    """Put a Löschsperre (legal hold) on a case or person and lift it: the audit function (and the system)."""
    return actor.system or actor.has_group("AUDIT")


def may_rotate_audit_key(actor: Actor) -> bool:
    """Put a new key of the audit chains into use: the operator on the server (``egs audit rotate-key``), who
    holds the key file; nobody in the web."""
    return actor.system


def may_run_retention(actor: Actor) -> bool:
    """Delete personal data past its retention period: the system only (``egs retention``, the timer worker)."""
    return actor.system


def may_use_workbench(actor: Actor) -> bool:
    """The auditor's workbench (case search across all sites, case stories, person views, system record): the
    audit function only (AUDIT at any site), read-only, and only after stating a purpose (``audit_purpose``)."""
    return actor.has_group("AUDIT")


def audit_sites(actor: Actor) -> list[str]:
    """The sites whose cases the auditor searches and reads on the workbench (AUDIT at '*': every site)."""
    return [site for site in SITES if actor.has_group("AUDIT", site)]


def may_audit_case(actor: Actor, site: str) -> bool:
    """Read the whole story of a case at ``site`` on the workbench: AUDIT at that site."""
    return actor.has_group("AUDIT", site)


def starts_on_workbench(actor: Actor) -> bool:
    """The first page after login is the workbench for the audit function (who works and leads no lane)."""
    return may_use_workbench(actor) and not actor.work_pairs() and not leads_somewhere(actor)


def may_manage_users(actor: Actor) -> bool:
    """Create users and grant groups: user administration (ADMIN) and the system."""
    return actor.system or actor.has_group("ADMIN")


def may_end_sessions_of(actor: Actor, username: str) -> bool:
    """End every session of a user ("Überall abmelden"): the user themself, user administration (ADMIN) and the
    system (``egs end-sessions``)."""
    return actor.username == username or may_manage_users(actor)


@dataclass(frozen=True)
class Flags:
    """What the navigation and pages offer a user: each flag is one of the predicates above."""

    may_lead: bool
    may_start_cases: bool
    may_read_payment_lists: bool
    may_deploy: bool
    may_edit_models: bool
    may_read_audit_trail: bool
    may_manage_users: bool
    may_handle_incidents: bool
    may_search_cases: bool = False
    may_export_cases: bool = False
    may_manage_staff: bool = False
    may_simulate: bool = False
    may_use_workbench: bool = False
    may_migrate_cases: bool = False


def flags(actor: Actor, *, startable_processes: int) -> Flags:
    """The flags for ``actor``; ``startable_processes``: how many processes the actor may start somewhere
    (``engine.versions.startable``, which asks ``start_sites``)."""
    return Flags(
        may_lead=leads_somewhere(actor),
        may_start_cases=startable_processes > 0,
        may_read_payment_lists=bool(payment_list_sites(actor)),
        may_deploy=may_deploy(actor),
        may_edit_models=may_edit_models(actor),
        may_read_audit_trail=may_read_audit_trail(actor),
        may_manage_users=may_manage_users(actor),
        may_handle_incidents=bool(incident_sites(actor)),
        may_search_cases=may_search_cases(actor),
        may_export_cases=may_export_cases(actor),
        may_manage_staff=bool(staff_sites(actor)),
        may_simulate=bool(simulation_sites(actor)),
        may_use_workbench=may_use_workbench(actor),
        may_migrate_cases=may_migrate_cases(actor),
    )
