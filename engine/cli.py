"""The ``egs`` command line (engine part). ``webapp.cli`` adds ``serve`` and is the entry point.

Expected failures print a German message to stderr and exit with code 2, never a traceback.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from . import api_tokens
from .api import Engine
from .auth import Actor, system_actor
from .clock import BERLIN
from .config import load_settings
from .errors import EngineError, FormValidationError
from .logs import configure_logging
from .model_lint import ModelLintError
from .simulation_text import simulation_text
from .vocabulary import SITES, WORK_GROUPS

CLI = system_actor("cli")  # the command line runs on the server, as the system
NO_PROCESSES = "Keine Prozesse bereitgestellt."


@contextmanager
def _friendly_errors() -> Iterator[None]:
    try:
        yield
    except ModelLintError as exc:
        click.echo(f"Fehler: {len(exc.problems)} Problem(e) in den Modellen:", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem.message}", err=True)
        sys.exit(2)
    except FormValidationError as exc:
        click.echo(f"Fehler: {exc.message}", err=True)
        for messages in exc.field_errors.values():
            for message in messages:
                click.echo(f"  - {message}", err=True)
        sys.exit(2)
    except EngineError as exc:
        click.echo(f"Fehler: {exc.message}", err=True)
        sys.exit(2)


def make_engine(check_schema: bool = True) -> Engine:
    """Build the engine from the environment; refuse an outdated schema unless told otherwise."""
    settings = load_settings()
    configure_logging(settings.log_level)
    engine = Engine(settings)
    if check_schema:
        try:
            engine.ensure_schema()
        except EngineError:
            engine.close()
            raise
    return engine


@contextmanager
def _engine(check_schema: bool = True) -> Iterator[Engine]:
    """Run a command with an engine: German errors instead of tracebacks, connections closed at the end."""
    with _friendly_errors():
        engine = make_engine(check_schema)
        try:
            yield engine
        finally:
            engine.close()


@click.group(help="EGS-Prozessplattform: Modelle bereitstellen, Vorgänge starten, Timer ausführen.")
def cli() -> None:
    pass


@cli.command("init-db", help="Datenbankschema anlegen bzw. auf den neuesten Stand bringen.")
def init_db() -> None:
    with _engine(check_schema=False) as engine:
        before, after = engine.init_db()
        click.echo(init_db_message(before, after))


def init_db_message(before: str | None, after: str | None) -> str:
    """What ``init-db`` did: created the schema, upgraded it, or found it current."""
    if before is None:
        return f"Datenbankschema angelegt (Revision {after})."
    if before != after:
        return f"Datenbankschema aktualisiert (Revision {before} → {after})."
    return f"Datenbankschema ist aktuell (Revision {after})."


@cli.command(help="BPMN/DMN-Dateien oder Verzeichnisse bereitstellen (mit Formularen aus --forms).")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--forms", "forms_dir", type=click.Path(path_type=Path), help="Formularverzeichnis (Standard: forms)")
def deploy(paths: tuple[Path, ...], forms_dir: Path | None) -> None:
    with _engine() as engine:
        results = engine.deploy_paths(list(paths), CLI, forms_dir)
        for result in results:
            state = "neu" if result.created else "unverändert"
            click.echo(f"{result.process_id}\tVersion {result.version}\t({state})\t{result.name}")
            for warning in result.warnings:
                click.echo(f"  Warnung: {warning}", err=True)


@cli.command(help="Einen Vorgang eines Prozesses starten.")
@click.argument("process_id")
@click.option("--key", "business_key", help="Geschäftsschlüssel, z. B. BG-Nummer")
@click.option("--site", help="Standort (56.4 … 56.8)")
def start(process_id: str, business_key: str | None, site: str | None) -> None:
    with _engine() as engine:
        header = engine.start_case(CLI, process_id, site=site, business_key=business_key, system=True)
        click.echo(f"Vorgang {header.instance_id} gestartet: {header.business_key} (Standort {header.site})")


@cli.command(help="Offene Aufgaben auflisten (alle oder die eines Benutzers).")
@click.option("--user", "username", help="nur Aufgaben, die dieser Benutzer sehen darf")
def tasks(username: str | None) -> None:
    with _engine() as engine:
        if username:
            actor = engine.actor(username)
        else:
            actor = Actor("cli", "CLI", frozenset((g, s) for g in WORK_GROUPS for s in SITES))
        rows = engine.inbox(actor)
        if not rows:
            click.echo("Keine offenen Aufgaben.")
        for row in rows:
            due = row.due_at.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M") if row.due_at else "-"
            click.echo(f"{row.task_uuid}\t{row.business_key or '-'}\t{row.site}\t{row.lane}\t{row.name}\tfällig: {due}")


@cli.command(help="Timer-Worker: fällige Timer fortlaufend auslösen.")
@click.option("--interval", type=float, help="Sekunden zwischen zwei Durchläufen")
@click.option("--once", is_flag=True, help="nur einen Durchlauf")
def worker(interval: float | None, once: bool) -> None:
    with _engine() as engine:
        click.echo("Timer-Worker läuft (Strg+C beendet).")
        try:
            engine.run_worker(interval=interval, max_rounds=1 if once else None)
        except KeyboardInterrupt:
            click.echo("Timer-Worker beendet.")


@cli.command(help="Demo-Benutzer (Passwort 'demo') und Demo-Vorgänge anlegen; nicht in Produktion.")
def demo() -> None:
    from .demo import DEMO_PASSWORD

    with _engine() as engine:
        users, cases = engine.seed_demo()
        click.echo(
            f"Demo-Benutzer angelegt: {', '.join(users) or 'keine (schon vorhanden)'}; Passwort: {DEMO_PASSWORD}"
        )
        click.echo(f"Demo-Vorgänge angelegt: {', '.join(cases) or 'keine (schon vorhanden)'}")


@cli.command(
    "verify-audit",
    help="Ketten des Audit-Trails mit dem Schlüssel prüfen und mit den Ankern vergleichen (Exit-Code 1 bei Befund).",
)
@click.option("--vorgang", "instance_id", type=int, help="nur die Kette dieses Vorgangs")
@click.option("--standort", "site", help="nur die Ketten der Vorgänge dieses Standorts")
def verify_audit(instance_id: int | None, site: str | None) -> None:
    from .audit_verify import Scope

    with _engine() as engine:
        problems = engine.verify_audit(CLI, Scope(instance_id, site))
        for problem in problems:
            click.echo(f"Kette {problem.chain}, Ereignis {problem.event_id}: {problem.problem}", err=True)
        if problems:
            sys.exit(1)
        click.echo("Audit-Trail ist unverändert.")


@cli.group(help="Audit-Trail: Anker außerhalb der Datenbank schreiben, Schlüssel wechseln.")
def audit() -> None:
    pass


@audit.command("anchor", help="Die Köpfe aller Ketten jetzt verankern (Ankerdatei und Prüfprotokoll des Tages).")
def audit_anchor() -> None:
    with _engine() as engine:
        written = engine.anchor_audit(CLI)
        click.echo(f"Anker {written.path} geschrieben: bis Ereignis {written.up_to}, {written.chains} Kette(n).")
        click.echo(f"Prüfprotokoll: {written.protocol}")


@audit.command(
    "rotate-key",
    help="Neuen Schlüssel der Audit-Ketten an EGS_AUDIT_KEY_FILE anhängen; die alten bleiben zum Prüfen.",
)
def audit_rotate_key() -> None:
    with _engine() as engine:
        old, new = engine.rotate_audit_key(CLI)
        click.echo(
            f"Neuer Schlüssel {new} signiert ab jetzt (bisher {old}); beide stehen in {engine.settings.audit_key_file}."
        )
        click.echo("Web und Timer-Worker neu starten, damit sie mit dem neuen Schlüssel signieren.")
        click.echo("Keinen Schlüssel aus der Datei entfernen: jedes Ereignis wird mit seinem Schlüssel geprüft.")


@cli.command(help="Personenbezogene Daten beendeter Vorgänge nach Ablauf der Aufbewahrungsfrist löschen.")
def retention() -> None:
    with _engine() as engine:
        deleted = engine.run_retention(CLI)
        click.echo(f"Personenbezogene Daten von {deleted} Vorgang/Vorgängen gelöscht.")


@cli.command("grant-app-role", help="PostgreSQL: Rolle der Anwendung anlegen und berechtigen (als Eigentümer-Rolle).")
@click.argument("role")
@click.option("--password-env", help="Umgebungsvariable mit dem Passwort der Rolle (legt sie mit LOGIN an)")
def grant_app_role(role: str, password_env: str | None) -> None:
    import os

    from .db_roles import grant_application_role

    with _engine() as engine:
        password = os.environ.get(password_env, "") if password_env else None
        grant_application_role(engine.db, role, password or None)
        click.echo(f"Rolle {role} berechtigt: in audit_event nur Lesen und Einfügen (und Löschvermerke).")


@cli.group(help="Token der REST-API (/api/v1): System-Token anlegen, auflisten, widerrufen.")
def token() -> None:
    pass


@token.command("create-system", help="System-Token anlegen; es wird nur dieses eine Mal angezeigt.")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              help=f"Umfang, mehrfach: {', '.join(api_tokens.SYSTEM_SCOPES)}")  # fmt: skip
@click.option("--site", "sites", multiple=True, required=True, help="Standort, für den es handelt (mehrfach; * = alle)")
@click.option(
    "--tage", "days", type=int, default=api_tokens.DEFAULT_DAYS, show_default=True, help="Gültigkeit in Tagen"
)
@click.option("--limit", "rate_limit", type=int, default=api_tokens.DEFAULT_RATE_LIMIT, show_default=True,
              help="Anfragen je Minute")  # fmt: skip
def token_create_system(name: str, scopes: tuple[str, ...], sites: tuple[str, ...], days: int, rate_limit: int) -> None:
    with _engine() as engine:
        created = engine.create_system_token(CLI, name, scopes, sites, days, rate_limit)
        click.echo(created.token)
        click.echo(f"Token {created.prefix} gültig bis {created.expires_at:%d.%m.%Y %H:%M} UTC – jetzt sicher "
                   "ablegen, es wird nicht wieder angezeigt.", err=True)  # fmt: skip


@token.command("revoke", help="Ein Token sofort widerrufen (Kennung: die 8 Zeichen nach egs_).")
@click.argument("prefix")
def token_revoke(prefix: str) -> None:
    with _engine() as engine:
        engine.revoke_token(CLI, prefix)
        click.echo(f"Token {prefix} widerrufen.")


@token.command(
    "list", help="Alle Token (Kennung, Art, Bezeichnung, Umfang, Standorte, Gültigkeit) – nie das Geheimnis."
)
def token_list() -> None:
    with _engine() as engine:
        for info in engine.tokens(CLI):
            state = "widerrufen" if info.revoked_at else f"bis {info.expires_at:%d.%m.%Y}"
            click.echo(f"{info.prefix}  {info.kind:8}  {info.name}  {','.join(info.scopes)}  "
                       f"{','.join(info.sites) or '-'}  {state}")  # fmt: skip


@cli.command("add-user", help="Benutzer anlegen, z. B. egs add-user mmuster --name 'Max Muster' --grant EGS@56.4")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Anzeigename")
@click.option("--grant", "grants", multiple=True, required=True, help="GRUPPE@STANDORT, z. B. LSB@56.5 oder AUDIT@*")
@click.password_option("--password", prompt="Passwort", help="Passwort (wird sonst abgefragt)")
def add_user(username: str, display_name: str, grants: tuple[str, ...], password: str) -> None:
    pairs: list[tuple[str, str]] = []
    for grant in grants:
        group, _, site = grant.partition("@")
        if not site:
            raise click.BadParameter(f"'{grant}' hat nicht die Form GRUPPE@STANDORT", param_hint="--grant")
        pairs.append((group.upper(), site))
    with _engine() as engine:
        engine.create_user(CLI, username, display_name, password, pairs)
        click.echo(f"Benutzer {username} angelegt: {', '.join(f'{g}@{s}' for g, s in pairs)}")


@cli.command("end-sessions", help="Alle Sitzungen eines Benutzers sofort beenden (z. B. nach Verlust eines Geräts).")
@click.argument("username")
def end_sessions(username: str) -> None:
    with _engine() as engine:
        ended = engine.end_sessions(CLI, username)
        click.echo(f"Sitzungen von {username} beendet: {ended}")


@cli.command("set-password", help="Neues Passwort für einen Benutzer setzen; seine Sitzungen enden sofort.")
@click.argument("username")
@click.password_option("--password", prompt="Neues Passwort", help="Passwort (wird sonst abgefragt)")
def set_password(username: str, password: str) -> None:
    with _engine() as engine:
        ended = engine.set_password(CLI, username, password)
        click.echo(f"Passwort von {username} gesetzt; {ended} Sitzung(en) beendet.")


@cli.command(help="RACI-Matrix der bereitgestellten Modelle: Prozess × Schritt × Einheit × Rolle des EGS.")
@click.option("--csv", "as_csv_output", is_flag=True, help="als CSV (Semikolon) statt als Tabelle")
def raci(as_csv_output: bool) -> None:
    from .raci import as_table

    with _engine() as engine:
        if not as_csv_output:
            rows = engine.raci()
            click.echo(as_table(rows) if rows else NO_PROCESSES)
            return
        result = engine.export(CLI, "raci", {})
        if result.rows:
            click.echo(result.content.lstrip("\ufeff"), nl=False)
        else:
            click.echo(NO_PROCESSES)


@cli.command(
    "export",
    help="Einen Export erzeugen, z. B. egs export sammelliste standort=56.4 art=EGZ monat=2025-05 "
    "oder egs export audit-xes --output log.xes prozess=pb_antragsannahme",
)
@click.argument("name")
@click.argument("parameters", nargs=-1)
@click.option(
    "--datei",
    "--output",
    "datei",
    type=click.Path(path_type=Path),
    help="in diese Datei schreiben (sonst Standardausgabe)",
)
def export(name: str, parameters: tuple[str, ...], datei: Path | None) -> None:
    values: dict[str, str] = {}
    for parameter in parameters:
        key, sep, value = parameter.partition("=")
        if not sep:
            raise click.BadParameter(f"'{parameter}' hat nicht die Form NAME=WERT", param_hint="PARAMETERS")
        values[key] = value
    with _engine() as engine:
        result = engine.export(CLI, name, values)
        if datei is None:
            for chunk in engine.export_chunks(result):
                click.echo(chunk, nl=False)
        else:
            with datei.open("w", encoding="utf-8", newline="") as out:
                out.writelines(engine.export_chunks(result))
            click.echo(f"{result.rows} Zeile(n) nach {datei} geschrieben ({result.filename}).", err=True)


@cli.command(
    help="Was wäre wenn: die nächsten vier Wochen eines Standorts simulieren (wie jetzt / plus eine LSB-Kraft)."
)
@click.option("--standort", default=None, help="Standort (Vorgabe: EGS_DEFAULT_SITE).")
@click.option(
    "--zugang", "arrivals", multiple=True, metavar="PROZESS=ANZAHL", help="Fälle je Arbeitstag statt der Prognose."
)
@click.option("--vzae", type=float, default=None, help="VZÄ im EGS statt des Personalbestands.")
@click.option("--abwesenheit", type=float, default=None, help="Abwesenheitstage (Personentage) in den vier Wochen.")
@click.option("--laeufe", type=int, default=None, help="Läufe je Szenario (1 bis 10).")
@click.option("--startwert", type=int, default=None, help="Startwert des Zufalls (gleicher Wert, gleiche Zahlen).")
def simulate(
    standort: str | None, arrivals: tuple[str, ...], vzae: float | None, abwesenheit: float | None,
    laeufe: int | None, startwert: int | None,
) -> None:  # fmt: skip
    with _engine() as engine:
        site = standort or engine.settings.default_site
        inputs, _, _ = engine.simulation_defaults(CLI, site)
        entered = dict(inputs.arrivals)
        for arrival in arrivals:
            key, sep, value = arrival.partition("=")
            if sep and key not in entered:
                raise click.BadParameter(f"'{key}' ist kein Prozess dieses Standorts", param_hint="--zugang")
            try:
                entered[key] = float(value.replace(",", "."))
            except ValueError:
                raise click.BadParameter(
                    f"'{arrival}' hat nicht die Form PROZESS=ANZAHL", param_hint="--zugang"
                ) from None
        inputs = dataclasses.replace(
            inputs,
            arrivals=entered,
            vzae=inputs.vzae if vzae is None else vzae,
            absence_days=inputs.absence_days if abwesenheit is None else abwesenheit,
            # entered staff figures replace the staffing tables
            staff_source="eingabe" if vzae is not None or abwesenheit is not None else inputs.staff_source,
            replications=inputs.replications if laeufe is None else laeufe,
            seed=inputs.seed if startwert is None else startwert,
        )
        report = engine.simulate(CLI, inputs)
        click.echo(simulation_text(report))


@cli.command(help="Fachliche Konfiguration anzeigen (Version, Datei, Warnungen).")
def konfig() -> None:
    with _engine() as engine:
        konfiguration = engine.konfig
        click.echo(f"Konfiguration {konfiguration.version} aus {konfiguration.path}")
        for warning in konfiguration.warnings:
            click.echo(f"Warnung: {warning}")


@cli.command(help="Laufende Vorgänge auf eine andere Version umziehen: erst Probelauf, mit --ausfuehren umziehen.")
@click.argument("process_id")
@click.option("--von", "source", type=int, required=True, help="Version, auf der die Vorgänge laufen")
@click.option("--nach", "target", type=int, required=True, help="Zielversion")
@click.option("--zuordnung", "mappings", multiple=True, help="ALTE_ID=NEUE_ID für offene Aufgaben (bestätigt)")
@click.option("--ausfuehren", is_flag=True, help="umziehen, was nach dem Probelauf umziehen kann")
def migrate(process_id: str, source: int, target: int, mappings: tuple[str, ...], ausfuehren: bool) -> None:
    mapping: dict[str, str] = {}
    for pair in mappings:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"'{pair}' hat nicht die Form ALTE_ID=NEUE_ID", param_hint="--zuordnung")
        mapping[old] = new
    with _engine() as engine:
        plan = engine.migration_dry_run(CLI, process_id, source, target)
        chosen = {case.instance_id: {need.task: mapping[need.task] for need in case.needs if need.task in mapping}
                  for case in plan.cases}  # fmt: skip
        if any(chosen.values()):
            plan = engine.migration_dry_run(CLI, process_id, source, target, chosen)
        for case in plan.cases:
            needs = ", ".join(f"{need.task} → ?" for need in case.needs if need.task not in mapping)
            click.echo("\t".join([case.business_key, case.status_label, " ".join(case.reasons) or needs]).rstrip())
        if not plan.cases:
            click.echo(f"Auf Version {source} laufen keine offenen Vorgänge.")
        if not ausfuehren:
            return
        movable = [(c.instance_id, c.lock_version, chosen[c.instance_id]) for c in plan.cases if c.status == "ok"]
        outcomes = engine.migrate_cases(CLI, target, movable)
        for outcome in outcomes:
            result = outcome.message if outcome.moved else f"nicht umgezogen: {outcome.message}"
            click.echo(f"{outcome.business_key}\t{result}")
        click.echo(f"{sum(o.moved for o in outcomes)} von {len(plan.cases)} Vorgängen umgezogen.")
