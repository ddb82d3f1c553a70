// The modeller page of a draft: bpmn-js Modeler with the properties panel and the EGS group, autosave
// (debounced, with lock_version: a newer save elsewhere is never overwritten), upload/download and deploy.
// Data comes from <script type="application/json" id="modeller-daten"> (strict CSP: no inline script).
import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import spiffworkflow from 'bpmnlint-plugin-egs/spiffworkflow-moddle.js';
import egsModule from './modeller-egs.js';
import { setupDeploy } from './modeller-deploy.js';
import { lintModules, lintOptions, loadLintContext, showLintList } from './modeller-lint.js';
import { TokenSimulationModule, bindSimulation } from './modeller-simulation.js';
import { bindFormEditor } from './modeller-forms.js';
import { postJson } from './modeller-http.js';
import { draftEditor } from './draft-editor.js';

const $ = (id) => document.getElementById(id);

async function formNames(url) {
  try {
    const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    return response.ok ? (await response.json()).formulare : [];
  } catch (error) {
    return [];
  }
}

async function main(data) {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const canvasBox = $('modeller-canvas');
  const statusLine = $('modeller-status');
  const errorBox = $('modeller-fehler');
  const errorList = $('modeller-fehlerliste');
  const deleteVersion = $('modeller-loeschen-version');
  const nameInput = $('entwurf-name');
  const nameErrorBox = $('entwurf-name-fehler');
  const nameError = (text) => {
    nameErrorBox.textContent = text || '';
    nameErrorBox.hidden = !text;
    if (text) nameInput.setAttribute('aria-invalid', 'true');
    else nameInput.removeAttribute('aria-invalid');
  };
  let marked = [];

  const setStatus = (text, problem = false) => {
    statusLine.textContent = text;
    statusLine.classList.toggle('modeller-status-fehler', problem);
  };

  const [forms] = await Promise.all([formNames(data.formsUrl), loadLintContext(data.lintUrl)]);
  const modeler = new BpmnModeler({
    container: canvasBox,
    propertiesPanel: { parent: '#modeller-panel' },
    additionalModules: [
      BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, egsModule, ...lintModules, TokenSimulationModule,
    ],
    linting: lintOptions,
    moddleExtensions: { spiffworkflow },
    egs: { roles: data.roles, forms, ...data.panel },
  });
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  const selection = modeler.get('selection');

  function showElement(id) {
    const element = registry.get(id);
    if (!element) return false;
    selection.select(element);
    canvas.scrollToElement(element);
    return true;
  }

  showLintList(modeler, { summary: $('pruefung-zusammenfassung'), list: $('pruefung-liste'), showElement });

  function clearProblems() {
    marked.forEach((id) => registry.get(id) && canvas.removeMarker(id, 'egs-fehler'));
    marked = [];
    errorList.replaceChildren();
    errorBox.hidden = true;
  }

  function showProblems(title, problems) {
    clearProblems();
    $('modeller-fehler-titel').textContent = title;
    for (const problem of problems) {
      const item = document.createElement('li');
      item.textContent = problem.message + (problem.line ? ` (Zeile ${problem.line})` : '');
      if (problem.element_id && registry.get(problem.element_id)) {
        canvas.addMarker(problem.element_id, 'egs-fehler');
        marked.push(problem.element_id);
        const name = registry.get(problem.element_id).businessObject.name || problem.element_id;
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'link-knopf';
        button.textContent = `Element „${name}“ zeigen`;
        button.addEventListener('click', () => showElement(problem.element_id));
        item.append(' ', button);
      }
      errorList.append(item);
    }
    errorBox.hidden = false;
    if (marked.length) showElement(marked[0]);
    errorBox.focus();
  }

  const { state, lock, saveNow, changed, loading, bindFileActions, guardUnload } = draftEditor({
    data,
    csrf,
    nameInput,
    getXml: async () => (await modeler.saveXML({ format: true })).xml,
    setStatus,
    setLock: (value) => {
      deleteVersion.value = value;
    },
    showProblems,
    clearProblems,
    onSaveAnswer: () => nameError(''),
    showFieldErrors: (errors) => {
      if (!errors.name) return false;
      nameError(errors.name.join(' '));
      return true;
    },
    invalidText: 'Der Entwurf enthält Fehler',
  });

  modeler.on('commandStack.changed', changed);
  nameInput.addEventListener('input', changed);

  const importXml = (xml) => loading(async () => {
    const { warnings } = await modeler.importXML(xml);
    canvas.zoom('fit-viewport');
    return warnings;
  });

  try {
    await importXml(data.xml);
  } catch (error) {
    setStatus('Das Diagramm konnte nicht geladen werden.', true);
    return;
  }
  canvasBox.dataset.geladen = 'ja';
  setStatus('Alle Änderungen sind gespeichert.');

  bindSimulation(modeler, canvasBox, $('modeller-simulation'), (active) => {
    setStatus(active
      ? 'Token-Simulation läuft: Startereignisse mit ▶ auslösen, an Verzweigungen den Fluss wählen. Bearbeiten ist so lange gesperrt.'
      : (state.dirty ? 'Ungespeicherte Änderungen' : 'Token-Simulation beendet.'));
  });

  const allForms = [...new Set([...(await formNames(data.formsUrl)), ...data.ownForms])].sort();
  bindFormEditor({
    csrf,
    data,
    names: allForms,
    getLock: () => state.lockVersion,
    setLock: lock,
    flush: async () => !state.blocked && (!state.dirty || saveNow()),
  });

  // A Probelauf runs the saved draft: save pending changes first.
  const trialForm = $('probelauf-form');
  trialForm.addEventListener('submit', async (event) => {
    if (!state.dirty) return;
    event.preventDefault();
    if (await saveNow()) trialForm.submit();
  });

  // The server checks an uploaded file first (size, DOCTYPE/entities, BPMN, process id); only then is it shown.
  bindFileActions({
    saveButton: $('modeller-speichern'),
    download: $('modeller-herunterladen'),
    uploadButton: $('modeller-hochladen'),
    fileInput: $('modeller-datei'),
    importXml,
  });

  setupDeploy({ data, csrf, saveNow, postJson, setStatus, showProblems, clearProblems, lockVersion: () => state.lockVersion });

  const diffLink = $('modeller-vergleich');
  diffLink.addEventListener('click', async (event) => {
    event.preventDefault();
    if (await saveNow()) window.location.href = diffLink.href;
  });

  guardUnload();
  window.egsModeller = modeler; // for the browser tests
}

const source = $('modeller-daten');
if (source && $('modeller-canvas')) {
  main(JSON.parse(source.textContent));
}
