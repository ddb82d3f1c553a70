"""Take the README screenshots (inbox, task form, case page, Personallage) from a throwaway demo database.

Usage: .venv/bin/python scripts/screenshots.py   (writes docs/screenshots/*.png)
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.api import Engine  # noqa: E402
from engine.auth import system_actor  # noqa: E402
from engine.config import load_settings  # noqa: E402
from engine.demo import create_demo_cases, create_demo_staff, create_demo_users  # noqa: E402
from webapp import create_app  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]


def main() -> None:
    url = f"sqlite:///{tempfile.mkdtemp()}/screens.sqlite3"
    engine = Engine(load_settings({"database_url": url, "env": "test", "secret_key": "screens"}))
    engine.init_db()
    engine.deploy_paths([ROOT / "processes"], system_actor("demo"), ROOT / "forms")
    create_demo_users(engine)
    create_demo_cases(engine)
    create_demo_staff(engine)
    server = make_server("127.0.0.1", 0, create_app(engine=engine), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="de-DE", base_url=base)
        page.goto("/anmelden")
        page.get_by_label("Benutzername").fill("egs")
        page.get_by_label("Passwort").fill("demo")
        page.get_by_role("button", name="Anmelden").click()
        page.wait_for_url(base + "/")
        page.screenshot(path=OUT / "inbox.png")
        page.get_by_role("link", name="Antrag annehmen und Identität prüfen", exact=True).first.click()
        page.get_by_role("button", name="Abschließen").click()  # empty form: shows the German field errors
        page.screenshot(path=OUT / "task-form.png", full_page=True)
        page.goto("/")
        page.get_by_role("link", name="07402//0090003").click()
        page.wait_for_selector("#diagramm[data-geladen='ja']")
        page.screenshot(path=OUT / "case.png", full_page=True)
        page.get_by_role("button", name="Abmelden").click()
        page.get_by_label("Benutzername").fill("fdl")
        page.get_by_label("Passwort").fill("demo")
        page.get_by_role("button", name="Anmelden").click()
        page.goto("/personal/?standort=56.4")
        page.screenshot(path=OUT / "personallage.png", full_page=True)
        browser.close()
    server.shutdown()
    engine.close()
    print(f"Screenshots in {OUT}")


if __name__ == "__main__":
    main()
