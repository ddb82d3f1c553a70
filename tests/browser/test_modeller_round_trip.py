"""Every model of processes/ opened in the browser modeller (the real bundle in Chromium: bpmn-js, our moddle
extension, the EGS panel shown on every element) and saved without a change keeps every spiffworkflow element
where it was and passes the server's checks with the same task information."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from engine.deployments import checked_models
from engine.model_loader import ModelFile, ProcessModel
from engine.safe_xml import SPIFF_NS
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
MODELS = sorted((ROOT / "processes").glob("*.bpmn"))
OPEN_PB = re.compile(r"^Im Modeller öffnen\W+PB – Antragsannahme")

ROUND_TRIP = """async (xml) => {
  const modeler = window.egsModeller;
  const { warnings } = await modeler.importXML(xml);
  const selection = modeler.get('selection');
  for (const element of modeler.get('elementRegistry').filter((e) => !e.labelTarget)) {
    selection.select(element);  // the panel with the EGS group renders for it: it must not change anything
    await Promise.resolve();  // (preact renders in a microtask)
  }
  const commands = modeler.get('commandStack')._stack.length;
  return { warnings: warnings.map((w) => w.message), commands, xml: (await modeler.saveXML({ format: true })).xml };
}"""


def spiff_elements(xml: str) -> Counter[tuple[str, str, tuple[tuple[str, str], ...], str]]:
    """Every spiffworkflow element: the id of the BPMN element it belongs to, its tag, attributes and text."""
    found: Counter[tuple[str, str, tuple[tuple[str, str], ...], str]] = Counter()
    for element in etree.fromstring(xml.encode()).iter(f"{{{SPIFF_NS}}}*"):
        owner = next(a.get("id") for a in element.iterancestors() if a.get("id"))
        attributes = tuple(sorted(element.attrib.items()))
        found[(owner, etree.QName(element).localname, attributes, (element.text or "").strip())] += 1
    return found


def task_information(model: ProcessModel) -> dict[str, object]:
    tasks = {t.bpmn_id: (t.name, t.tag, t.lane, t.egs_role, t.form_key, t.instructions, t.properties)
             for t in model.tasks.values()}  # fmt: skip
    return {"tasks": tasks, "properties": model.properties, "start_lanes": model.start_lanes, "sites": model.sites}


def checked(files: list[ModelFile]) -> dict[str, ProcessModel]:
    return checked_models(files, ROOT / "forms", max_model_bytes=5_000_000, max_form_bytes=262_144)[0]


def test_every_model_survives_open_and_save_in_the_browser_modeller(page) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "modeller")
    page.get_by_role("button", name=OPEN_PB).click()
    page.wait_for_selector("#modeller-canvas[data-geladen='ja']")
    # The other models are imported into this page only to be saved here: the draft must not store them.
    page.route("**/modelle/entwuerfe/*", lambda route: route.fulfill(json={"lock_version": 1})
               if route.request.method == "POST" else route.continue_())  # fmt: skip
    tables = [ModelFile.from_path(path) for path in sorted((ROOT / "processes").glob("*.dmn"))]
    originals = checked([ModelFile.from_path(path) for path in MODELS] + tables)
    saved_files = []
    for path in MODELS:
        text = path.read_text(encoding="utf-8")
        result = page.evaluate(ROUND_TRIP, text)
        assert (result["warnings"], result["commands"]) == ([], 0), path.name
        saved = result["xml"]
        assert 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"' in saved, path.name
        assert spiff_elements(saved) == spiff_elements(text), path.name
        saved_files.append(ModelFile(path.name, saved.encode()))
    resaved = checked(saved_files + tables)  # the server's lint and SpiffWorkflow's parser, as a deploy runs them
    assert sorted(resaved) == sorted(originals)
    for process_id, model in originals.items():
        assert task_information(resaved[process_id]) == task_information(model), process_id
    assert page.console_problems == []  # type: ignore[attr-defined]
