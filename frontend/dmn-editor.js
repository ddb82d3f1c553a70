// The DMN editor page of a decision table draft: dmn-js (decision table view) with autosave (debounced, with
// lock_version: a newer save elsewhere is never overwritten), upload/download and deploy with a comment.
// The server checks every text (safe XML, SpiffWorkflow's parse, every cell compiled in the sandbox); its German
// problems are listed under the table. Data comes from <script type="application/json" id="dmn-daten">.
import DmnModeler from 'dmn-js/lib/Modeler';
import { postJson } from './modeller-http.js';
import { germanTranslate } from './dmn-texts.js';

const AUTOSAVE_MS = 1500;
const $ = (id) => document.getElementById(id);

function clock() {
  return new Date().toLocaleTimeString('de-DE', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Berlin' });
}

async function main(data) {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const box = $('dmn-editor');
  const statusLine = $('dmn-status');
  const errorBox = $('dmn-fehler');
  const errorList = $('dmn-fehlerliste');
  const nameInput = $('entwurf-name');
  const deleteVersion = $('dmn-loeschen-version');
  const state = { lockVersion: data.lockVersion, dirty: false, blocked: false, saving: null, timer: null, importing: false };

  const setStatus = (text, problem = false) => {
    statusLine.textContent = text;
    statusLine.classList.toggle('dmn-editor-status-fehler', problem);
  };
  const setLock = (value) => {
    state.lockVersion = value;
    deleteVersion.value = value;
  };

  function clearProblems() {
    errorList.replaceChildren();
    errorBox.hidden = true;
  }

  function showProblems(title, problems) {
    clearProblems();
    $('dmn-fehler-titel').textContent = title;
    for (const problem of problems) {
      const item = document.createElement('li');
      item.textContent = problem.message + (problem.line ? ` (Zeile ${problem.line})` : '');
      errorList.append(item);
    }
    errorBox.hidden = false;
    errorBox.focus();
  }

  const modeler = new DmnModeler({
    container: box,
    common: {
      // Our engine evaluates cells as Python (SpiffWorkflow), not FEEL: plain text editors, no FEEL editor.
      expressionLanguages: { options: [{ value: 'python', label: 'Python' }], defaults: { editor: 'python' } },
    },
    // German texts (dmn-js hands only a view's own additionalModules to the view, not common ones)
    decisionTable: { additionalModules: [{ translate: ['value', germanTranslate] }] },
  });

  async function importXml(xml) {
    state.importing = true;
    try {
      await modeler.importXML(xml);
      const table = modeler.getViews().find((view) => view.type === 'decisionTable');
      if (table && modeler.getActiveView() !== table) await modeler.open(table);
      modeler.getActiveViewer().get('eventBus').on('elements.changed', changed);
    } finally {
      state.importing = false;
    }
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
      if (result.ok) {
        setLock(result.json.lock_version);
        clearProblems();
        setStatus(state.dirty ? 'Ungespeicherte Änderungen' : `Gespeichert um ${clock()} Uhr.`);
        return true;
      }
      state.dirty = true;
      if (result.status === 409) {
        state.blocked = true;
        setStatus(`Nicht gespeichert: ${result.json.message || 'Der Entwurf wurde zwischenzeitlich geändert.'} `
          + 'Ihre Änderungen sind nur noch in diesem Fenster; laden Sie die Seite neu, um den neueren Stand zu sehen.', true);
      } else if (result.status === 422 && result.json.field_errors) {
        setStatus('Nicht gespeichert: Bitte den Namen des Entwurfs prüfen.', true);
        showProblems('Der Entwurf wurde nicht gespeichert', Object.values(result.json.field_errors).flat().map((message) => ({ message })));
      } else if (result.status === 422 && result.json.problems) {
        setStatus('Nicht gespeichert: Die Tabelle enthält Fehler (siehe unten).', true);
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

  function changed() {
    if (state.importing) return;
    state.dirty = true;
    if (!state.blocked) setStatus('Ungespeicherte Änderungen');
    clearTimeout(state.timer);
    state.timer = setTimeout(saveNow, AUTOSAVE_MS);
  }
  nameInput.addEventListener('input', changed);

  try {
    await importXml(data.xml);
  } catch (error) {
    setStatus('Die Entscheidungstabelle konnte nicht geladen werden.', true);
    return;
  }
  box.dataset.geladen = 'ja';
  setStatus('Alle Änderungen sind gespeichert.');

  $('dmn-speichern').addEventListener('click', async () => {
    state.dirty = state.dirty || !state.blocked;
    await saveNow();
  });

  const download = $('dmn-herunterladen');
  download.addEventListener('click', async (event) => {
    if (!state.dirty) return; // the server's copy is current
    event.preventDefault();
    if (await saveNow()) window.location.href = download.href;
  });

  const fileInput = $('dmn-datei');
  $('dmn-hochladen').addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files[0];
    fileInput.value = '';
    if (!file || state.blocked) return;
    clearProblems();
    const xml = await file.text();
    // The server checks the file first (size, DOCTYPE/entities, DMN, cells); only then is it shown.
    const result = await postJson(data.saveUrl, { xml, lock_version: state.lockVersion }, csrf);
    if (!result.ok) {
      if (result.status === 409) state.blocked = true;
      showProblems('Die Datei wurde nicht übernommen', result.json.problems || [{ message: result.json.message || `Fehler ${result.status}` }]);
      return;
    }
    setLock(result.json.lock_version);
    state.dirty = false;
    await importXml(xml);
    setStatus(`Datei „${file.name}“ übernommen und gespeichert.`);
  });

  const deployForm = $('dmn-bereitstellen');
  const comment = $('kommentar');
  const commentError = $('kommentar-fehler');
  const fieldError = (text) => {
    commentError.textContent = text || '';
    commentError.hidden = !text;
    if (text) comment.setAttribute('aria-invalid', 'true');
    else comment.removeAttribute('aria-invalid');
  };
  deployForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearProblems();
    fieldError('');
    if (!comment.value.trim()) {
      fieldError('Bitte beschreiben Sie kurz, was sich ändert.');
      comment.focus();
      return;
    }
    if (!(await saveNow())) return;
    setStatus('Wird bereitgestellt …');
    const result = await postJson(data.deployUrl, { comment: comment.value, lock_version: state.lockVersion }, csrf);
    if (result.ok) {
      setStatus(result.json.message);
      if (result.json.url) window.location.href = result.json.url;
      return;
    }
    setStatus('Nicht bereitgestellt.', true);
    if (result.json.field_errors && result.json.field_errors.kommentar) {
      fieldError(result.json.field_errors.kommentar.join(' '));
      comment.focus();
    } else {
      showProblems('Die Version wurde nicht bereitgestellt', result.json.problems || [{ message: result.json.message || `Fehler ${result.status}` }]);
    }
  });

  window.addEventListener('beforeunload', (event) => {
    if (state.dirty && !state.blocked) {
      event.preventDefault();
      event.returnValue = '';
    }
  });
  window.egsDmnEditor = modeler; // for the browser tests
}

const source = $('dmn-daten');
if (source && $('dmn-editor')) {
  main(JSON.parse(source.textContent));
}
