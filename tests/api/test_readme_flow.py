"""The README's REST-API example, run as written: a script outside the app (bash + curl) starts a PB case with a
system token and, once the clerk has asked for the missing documents, delivers „Unterlagen eingegangen“ – over
HTTP against a live server, on both databases; the case moves on and the clerk's bell tells of its next step."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from typing import Any

import pytest

from engine.api import Engine
from tests.support import pb
from tests.support.api import system_token
from tests.support.engines import ROOT
from tests.support.records import audit_events

EXAMPLE_KEY, EXAMPLE_ID, EXAMPLE_DAY = "VG-2026-000017", "17", "2026-12-01"


def readme_steps() -> tuple[str, str]:
    """The two steps of the README's curl example (the lines after "# 1." and after "# 2.")."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## REST-API", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README: no sh block in section REST-API"
    text = block.group(1)
    first = text.split("\n# 1.", 1)[1].split("\n", 1)[1].split("\n# 2.", 1)[0]
    second = text.split("\n# 2.", 1)[1].split("\n", 1)[1]
    return first, second


def run(script: str, url: str, token: str) -> list[Any]:
    """Run a step with bash; return the JSON documents curl printed, in order."""
    environment = {"PATH": os.environ["PATH"], "EGS_URL": url, "EGS_TOKEN": token}
    done = subprocess.run(["bash", "-eu", "-c", script], capture_output=True, text=True, env=environment, timeout=60)
    assert done.returncode == 0, done.stderr
    decoder, text, found = json.JSONDecoder(), done.stdout.strip(), []
    while text:
        document, end = decoder.raw_decode(text)
        found.append(document)
        text = text[end:].lstrip()
    return found


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl fehlt (README-Beispiel)")
def test_the_readme_example_starts_a_case_and_delivers_the_documents(deployed: Engine, live_server: str) -> None:
    start, documents = readme_steps()
    token = system_token(deployed, ["cases:start", "messages:send", "cases:read"], ["56.4"]).token

    [case] = run(start, live_server, token)
    assert case["status"] == "running" and case["process_id"] == pb.PROCESS
    assert run(start, live_server, token) == [case], "the retry (same Idempotency-Key) starts no second case"

    clerk = deployed.actor("egs")  # meanwhile at the front desk: the clerk asks for the bank statements
    pb.walk_to_documents_requested(deployed, clerk, case["instance_id"])
    assert [t.name for t in deployed.open_tasks(clerk, case["instance_id"])] == [pb.EINGANG_ERFASSEN]

    step = documents.replace(EXAMPLE_KEY, case["business_key"])
    step = step.replace(f"/cases/{EXAMPLE_ID}", f"/cases/{case['instance_id']}")
    delivered, status = run(step.replace(EXAMPLE_DAY, pb.heute()), live_server, token)
    assert delivered == {"delivered": 1}
    assert pb.EINGANG_ERFASSEN not in [t["name"] for t in status["open_tasks"]], "the case moved on"
    assert status["open_tasks"], "to its next step"
    next_task = status["open_tasks"][0]["name"]
    told = [n for n in deployed.notifications.page(clerk).rows if n.instance_id == case["instance_id"] and not n.read]
    assert [(n.task_name, n.link) for n in told] == [(next_task, "task")], "the clerk's bell tells of the next step"
    message = audit_events(deployed, "message")[-1]
    assert (message.actor, message.instance_id) == ("api:Poststelle Scan", case["instance_id"])
