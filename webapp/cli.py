"""The ``egs`` command: the engine's commands plus ``serve`` for the web application."""

from __future__ import annotations

import sys
import threading

import click

from engine.cli import cli
from engine.errors import EngineError
from engine.konfiguration import log_warnings
from engine.logs import configure_logging


@click.command(help="Webanwendung starten (eingebauter Server mit mehreren Threads; in Produktion gunicorn).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse, an der der Server lauscht")
@click.option("--port", default=5000, show_default=True, type=int, help="Port")
@click.option(
    "--worker/--no-worker",
    default=True,
    show_default=True,
    help="Timer-Worker im selben Prozess mitlaufen lassen (für den Einzelplatzbetrieb; sonst 'egs worker')",
)
def serve(host: str, port: int, worker: bool) -> None:
    from . import create_app
    from .serving import DevRequestHandler

    try:
        app = create_app()
    except EngineError as exc:
        click.echo(f"Fehler: {exc.message}", err=True)
        sys.exit(2)
    engine = app.extensions["egs_engine"]
    configure_logging(engine.settings.log_level)
    log_warnings(engine.konfig)
    stop = threading.Event()
    if worker:
        thread = threading.Thread(target=engine.run_worker, kwargs={"stop": stop}, name="egs-timer-worker", daemon=True)
        thread.start()
    click.echo(f"EGS-Prozessplattform läuft auf http://{host}:{port}/ (Strg+C beendet).")
    try:
        app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False, request_handler=DevRequestHandler)
    finally:
        stop.set()
        engine.close()


main = click.Group(name="egs", help=cli.help, commands={**cli.commands, "serve": serve})
