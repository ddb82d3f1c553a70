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

const AUTOSAVE_MS = 1500;
const $ = (id) => document.getElementById(id);

function clock() {
  return new Date().toLocaleTimeString('de-DE', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Berlin' });
}

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
  const state = { lockVersion: data.lockVersion, dirty: false, blocked: false, saving: null, timer: null, importing: false };
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

  async function saveNow() {
    if (state.blocked) return false;
    clearTimeout(state.timer);
    if (state.saving) await state.saving;
    if (state.blocked) return false;
    if (!state.dirty) return true;
    state.saving = (async () => {
      state.dirty = false; // changes made while the request runs mark the draft dirty again
      const { xml } = await modeler.saveXML({ format: true });
      setStatus('Wird gespeichert …');
      const result = await postJson(data.saveUrl, { xml, name: nameInput.value, lock_version: state.lockVersion }, csrf);
      nameError('');
      if (result.ok) {
        state.lockVersion = result.json.lock_version;
        deleteVersion.value = state.lockVersion;
        setStatus(state.dirty ? 'Ungespeicherte Änderungen' : `Gespeichert um ${clock()} Uhr.`);
        return true;
      }
      state.dirty = true;
      if (result.status === 409) {
        state.blocked = true;
        setStatus(`Nicht gespeichert: ${result.json.message || 'Der Entwurf wurde zwischenzeitlich geändert.'} `
          + 'Ihre Änderungen sind nur noch in diesem Fenster; laden Sie die Seite neu, um den neueren Stand zu sehen.', true);
      } else if (result.status === 422 && result.json.field_errors && result.json.field_errors.name) {
        setStatus('Nicht gespeichert: Bitte den Namen des Entwurfs prüfen.', true);
        nameError(result.json.field_errors.name.join(' '));
      } else if (result.status === 422 && result.json.problems) {
        setStatus('Nicht gespeichert: Der Entwurf enthält Fehler (siehe unten).', true);
        showProblems('Der Entwurf wurde nicht gespeichert', result.json.problems);
      } else {
        setStatus(`Nicht gespeichert: ${result.json.message || `Fehler ${result.status}`} Bitte erneut versuchen.`, true);
      }
      return false;
    })();
    try {
      return await state.saving;
    } finally {
      state.saving = null;
    }
  }

  const changed = () => {
    if (state.importing) return;
    state.dirty = true;
    if (!state.blocked) setStatus('Ungespeicherte Änderungen');
    clearTimeout(state.timer);
    state.timer = setTimeout(saveNow, AUTOSAVE_MS);
  };
  modeler.on('commandStack.changed', changed);
  nameInput.addEventListener('input', changed);

  async function importXml(xml) {
    state.importing = true;
    try {
      const { warnings } = await modeler.importXML(xml);
      canvas.zoom('fit-viewport');
      return warnings;
    } finally {
      state.importing = false;
    }
  }

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
    setLock: (value) => {
      state.lockVersion = value;
      deleteVersion.value = value;
    },
    flush: async () => !state.blocked && (!state.dirty || saveNow()),
  });

  // A Probelauf runs the saved draft: save pending changes first.
  const trialForm = $('probelauf-form');
  trialForm.addEventListener('submit', async (event) => {
    if (!state.dirty) return;
    event.preventDefault();
    if (await saveNow()) trialForm.submit();
  });

  $('modeller-speichern').addEventListener('click', async () => {
    state.dirty = state.dirty || !state.blocked;
    await saveNow();
  });

  const download = $('modeller-herunterladen');
  download.addEventListener('click', async (event) => {
    if (!state.dirty) return; // the server's copy is current
    event.preventDefault();
    if (await saveNow()) window.location.href = download.href;
  });

  const fileInput = $('modeller-datei');
  $('modeller-hochladen').addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files[0];
    fileInput.value = '';
    if (!file || state.blocked) return;
    clearProblems();
    const xml = await file.text();
    // The server checks the file first (size, DOCTYPE/entities, BPMN, process id); only then is it shown.
    const result = await postJson(data.saveUrl, { xml, lock_version: state.lockVersion }, csrf);
    if (!result.ok) {
      if (result.status === 409) state.blocked = true;
      showProblems('Die Datei wurde nicht übernommen', result.json.problems || [{ message: result.json.message || `Fehler ${result.status}` }]);
      return;
    }
    state.lockVersion = result.json.lock_version;
    deleteVersion.value = state.lockVersion;
    state.dirty = false;
    await importXml(xml);
    setStatus(`Datei „${file.name}“ übernommen und gespeichert.`);
  });

  setupDeploy({ data, csrf, saveNow, postJson, setStatus, showProblems, clearProblems, lockVersion: () => state.lockVersion });

  const diffLink = $('modeller-vergleich');
  diffLink.addEventListener('click', async (event) => {
    event.preventDefault();
    if (await saveNow()) window.location.href = diffLink.href;
  });

  window.addEventListener('beforeunload', (event) => {
    if (state.dirty && !state.blocked) {
      event.preventDefault();
      event.returnValue = '';
    }
  });
  window.egsModeller = modeler; // for the browser tests
}

const source = $('modeller-daten');
if (source && $('modeller-canvas')) {
  main(JSON.parse(source.textContent));
}
