"""Staffing of a site (§ 6/§ 7) for its leads: dashboard (capacity vs demand, absences, redeployments),
staff and absences (form and CSV), the FDL's share decision, redeployments and their monthly report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine import clock, permissions
from engine.errors import RuleViolationError
from engine.staff import ABSENCE_KINDS, FUNCTIONS, StaffInput, parse_day
from engine.vocabulary import SITES
from engine.vzae_plan import AREA_TITLES, AREAS, MODES

from ..extensions import get_engine
from ..security import login_required, require_actor
from ..staffing_chart import chart

bp = Blueprint("staffing", __name__, url_prefix="/personal")
MAX_CSV_BYTES = 512 * 1024


def _site() -> str:
    sites = permissions.staff_sites(require_actor())
    if not sites:
        abort(403)
    site = request.args.get("standort", sites[0])
    return site if site in SITES else abort(404)


@bp.get("/")
@login_required
def dashboard() -> Any:
    """The site's staffing: capacity vs demand today and for 10 working days (chart and table), absences,
    redeployments, the VZÄ plan; the view is audited."""
    actor = require_actor()
    site = _site()
    view = get_engine().staff_overview(actor, site)
    return render_template(
        "staffing/dashboard.html", view=view, site=site, sites=permissions.staff_sites(actor),
        chart=chart(view.workload.days), areas=AREAS, area_titles=AREA_TITLES, modes=MODES,
        functions=FUNCTIONS, absence_kinds=ABSENCE_KINDS, today=clock.today_berlin(),
    )  # fmt: skip


def _back(site: str, anchor: str = "") -> Any:
    return redirect(url_for(".dashboard", standort=site) + (f"#{anchor}" if anchor else ""))


def _changed(site: str, anchor: str, success: str, change: Callable[[], object], no_person: bool = False) -> Any:
    """Run one staffing change and go back to its section of the dashboard: ``success`` flashed, or the refusal's
    German message (with ``no_person``, a person field that is no number reads "Bitte eine Person wählen.")."""
    try:
        change()
    except RuleViolationError as exc:
        flash(exc.message, "error")
        return _back(site, anchor)
    except ValueError:
        if not no_person:
            raise
        flash("Bitte eine Person wählen.", "error")
        return _back(site, anchor)
    flash(success, "success")
    return _back(site, anchor)


def _person() -> int:
    return int(request.form.get("person", "0") or 0)


def _day(name: str) -> date:
    return parse_day(request.form.get(name, ""))


@bp.post("/<site>/beschaeftigte")
@login_required
def add_staff(site: str) -> Any:
    """Add a person to the site's staff (TL, FDL)."""
    try:
        hours = Decimal(request.form.get("wochenstunden", "").replace(",", "."))
    except InvalidOperation:
        flash("Wochenstunden als Zahl angeben, z. B. 19,5.", "error")
        return _back(site, "personal")
    end = request.form.get("ende", "").strip()

    def add() -> None:
        person = StaffInput(
            request.form.get("name", "")[:200], request.form.get("funktion", ""), hours, _day("beginn"),
            parse_day(end) if end else None, request.form.get("benutzer", "").strip()[:64] or None,
        )  # fmt: skip
        get_engine().add_staff(require_actor(), site, person)

    return _changed(site, "personal", "Person in den Personalbestand aufgenommen.", add)


@bp.post("/<site>/abwesenheiten")
@login_required
def add_absence(site: str) -> Any:
    """Record an absence (date range and kind, no reasons)."""
    return _changed(site, "abwesenheiten", "Abwesenheit erfasst.",
                    lambda: get_engine().add_absence(require_actor(), _person(), _day("von"), _day("bis"),
                                                     request.form.get("art", "")), no_person=True)  # fmt: skip


@bp.post("/<site>/abwesenheiten/<int:absence_id>/loeschen")
@login_required
def delete_absence(site: str, absence_id: int) -> Any:
    get_engine().delete_absence(require_actor(), absence_id)
    flash("Abwesenheit gelöscht.", "success")
    return _back(site, "abwesenheiten")


@bp.post("/<site>/import")
@login_required
def import_csv(site: str) -> Any:
    """Read staff or absences from a CSV file: all rows or none."""
    upload = request.files.get("datei")
    raw = upload.read(MAX_CSV_BYTES + 1) if upload else b""
    if not raw or len(raw) > MAX_CSV_BYTES:
        flash(f"Bitte eine CSV-Datei bis {MAX_CSV_BYTES // 1024} KB wählen.", "error")
        return _back(site, "import")
    try:
        people, absences = get_engine().import_staff(require_actor(), site, raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        flash("Die Datei ist nicht in UTF-8 gespeichert.", "error")
        return _back(site, "import")
    except RuleViolationError as exc:
        flash(f"Nichts übernommen. {exc.message}", "error")
        return _back(site, "import")
    flash(f"Eingelesen: {people} Personen, {absences} Abwesenheiten.", "success")
    return _back(site, "import")


@bp.post("/<site>/anteile")
@login_required
def decide_shares(site: str) -> Any:
    """The FDL decides how the VZÄ shares count at her site."""
    return _changed(
        site,
        "vzae",
        "Entscheidung gespeichert; alle abhängigen Zahlen rechnen jetzt so.",
        lambda: get_engine().decide_share_mode(require_actor(), site, request.form.get("entscheidung", "")),
    )


@bp.post("/<site>/umsetzung")
@login_required
def redeploy(site: str) -> Any:
    """The FDL redeploys an LSB/IFK person into the site's EGS for a period (time-limited grant)."""
    return _changed(site, "umsetzungen", "Umsetzung eingetragen: die EGS-Berechtigung gilt nur im gewählten Zeitraum.",
                    lambda: get_engine().redeploy(require_actor(), site, _person(), _day("von"), _day("bis")),
                    no_person=True)  # fmt: skip


@bp.get("/umsetzungen")
@login_required
def report() -> Any:
    """Redeployments into a site's EGS in a month: hours moved, from which unit."""
    actor = require_actor()
    site = _site()
    month = request.args.get("monat", clock.today_berlin().strftime("%Y-%m"))
    rows = get_engine().redeployment_report(actor, site, month)
    return render_template("staffing/report.html", rows=rows, site=site, month=month,
                           sites=permissions.staff_sites(actor))  # fmt: skip
