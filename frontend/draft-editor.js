// What the modeller (BPMN) and the DMN editor share for a draft kept on the server: autosave (debounced, with
// lock_version: a newer save elsewhere is never overwritten, a 409 blocks further saves in this window), the save
// button, download (saves first), upload (the server checks the file before it is shown) and the guard against
// leaving the page with unsaved changes. Each page passes what differs: how to read and load its XML, where its
// status and problems go, and how it shows field errors of the draft's name.
import { postJson } from './modeller-http.js';

const AUTOSAVE_MS = 1500;

function clock() {
  return new Date().toLocaleTimeString('de-DE', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Berlin' });
}

export function draftEditor({
  data, csrf, nameInput, getXml, setStatus, setLock, showProblems, clearProblems,
  onSaveAnswer = () => {}, onSaved = () => {}, showFieldErrors, invalidText,
}) {
  const state = { lockVersion: data.lockVersion, dirty: false, blocked: false, saving: null, timer: null, importing: false };
  const lock = (value) => {
    state.lockVersion = value;
    setLock(value);
  };

  async function saveNow() {
    if (state.blocked) return false;
    clearTimeout(state.timer);
    if (state.saving) await state.saving;
    if (state.blocked) return false;
    if (!state.dirty) return true;
    state.saving = (async () => {
      state.dirty = false; // changes made while the request runs mark the draft dirty again
      const xml = await getXml();
      setStatus('Wird gespeichert …');
      const result = await postJson(data.saveUrl, { xml, name: nameInput.value, lock_version: state.lockVersion }, csrf);
      onSaveAnswer(result);
      if (result.ok) {
        lock(result.json.lock_version);
        onSaved();
        setStatus(state.dirty ? 'Ungespeicherte Änderungen' : `Gespeichert um ${clock()} Uhr.`);
        return true;
      }
      state.dirty = true;
      if (result.status === 409) {
        state.blocked = true;
        setStatus(`Nicht gespeichert: ${result.json.message || 'Der Entwurf wurde zwischenzeitlich geändert.'} `
          + 'Ihre Änderungen sind nur noch in diesem Fenster; laden Sie die Seite neu, um den neueren Stand zu sehen.', true);
      } else if (result.status === 422 && result.json.field_errors && showFieldErrors(result.json.field_errors)) {
        setStatus('Nicht gespeichert: Bitte den Namen des Entwurfs prüfen.', true);
      } else if (result.status === 422 && result.json.problems) {
        setStatus(`Nicht gespeichert: ${invalidText} (siehe unten).`, true);
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

  // Load XML into the editor without marking the draft changed.
  async function loading(load) {
    state.importing = true;
    try {
      return await load();
    } finally {
      state.importing = false;
    }
  }

  // Save, download and upload buttons; ``importXml`` shows a file the server accepted.
  function bindFileActions({ saveButton, download, uploadButton, fileInput, importXml }) {
    saveButton.addEventListener('click', async () => {
      state.dirty = state.dirty || !state.blocked;
      await saveNow();
    });
    download.addEventListener('click', async (event) => {
      if (!state.dirty) return; // the server's copy is current
      event.preventDefault();
      if (await saveNow()) window.location.href = download.href;
    });
    uploadButton.addEventListener('click', () => fileInput.click());
    fileInput.addEventListener('change', async () => {
      const file = fileInput.files[0];
      fileInput.value = '';
      if (!file || state.blocked) return;
      clearProblems();
      const xml = await file.text();
      const result = await postJson(data.saveUrl, { xml, lock_version: state.lockVersion }, csrf);
      if (!result.ok) {
        if (result.status === 409) state.blocked = true;
        showProblems('Die Datei wurde nicht übernommen', result.json.problems || [{ message: result.json.message || `Fehler ${result.status}` }]);
        return;
      }
      lock(result.json.lock_version);
      state.dirty = false;
      await importXml(xml);
      setStatus(`Datei „${file.name}“ übernommen und gespeichert.`);
    });
  }

  function guardUnload() {
    window.addEventListener('beforeunload', (event) => {
      if (state.dirty && !state.blocked) {
        event.preventDefault();
        event.returnValue = '';
      }
    });
  }

  return { state, lock, saveNow, changed, loading, bindFileActions, guardUnload };
}
