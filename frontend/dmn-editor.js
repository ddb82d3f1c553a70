// The DMN editor page of a decision table draft: dmn-js (decision table view) with autosave (debounced, with
// lock_version: a newer save elsewhere is never overwritten), upload/download and deploy with a comment.
// The server checks every text (safe XML, SpiffWorkflow's parse, every cell compiled in the sandbox); its German
// problems are listed under the table. Data comes from <script type="application/json" id="dmn-daten">.
import DmnModeler from 'dmn-js/lib/Modeler';
import { postJson } from './modeller-http.js';
import { draftEditor } from './draft-editor.js';
import { germanTranslate } from './dmn-texts.js';

const $ = (id) => document.getElementById(id);

async function main(data) {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const box = $('dmn-editor');
  const statusLine = $('dmn-status');
  const errorBox = $('dmn-fehler');
  const errorList = $('dmn-fehlerliste');
  const nameInput = $('entwurf-name');
  const deleteVersion = $('dmn-loeschen-version');

  const setStatus = (text, problem = false) => {
    statusLine.textContent = text;
    statusLine.classList.toggle('dmn-editor-status-fehler', problem);
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

  const { state, saveNow, changed, loading, bindFileActions, guardUnload } = draftEditor({
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
    onSaved: clearProblems,
    showFieldErrors: (errors) => {
      showProblems('Der Entwurf wurde nicht gespeichert', Object.values(errors).flat().map((message) => ({ message })));
      return true;
    },
    invalidText: 'Die Tabelle enthält Fehler',
  });

  const importXml = (xml) => loading(async () => {
    await modeler.importXML(xml);
    const table = modeler.getViews().find((view) => view.type === 'decisionTable');
    if (table && modeler.getActiveView() !== table) await modeler.open(table);
    modeler.getActiveViewer().get('eventBus').on('elements.changed', changed);
  });
  nameInput.addEventListener('input', changed);

  try {
    await importXml(data.xml);
  } catch (error) {
    setStatus('Die Entscheidungstabelle konnte nicht geladen werden.', true);
    return;
  }
  box.dataset.geladen = 'ja';
  setStatus('Alle Änderungen sind gespeichert.');

  // The server checks an uploaded file first (size, DOCTYPE/entities, DMN, cells); only then is it shown.
  bindFileActions({
    saveButton: $('dmn-speichern'),
    download: $('dmn-herunterladen'),
    uploadButton: $('dmn-hochladen'),
    fileInput: $('dmn-datei'),
    importXml,
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

  guardUnload();
  window.egsDmnEditor = modeler; // for the browser tests
}

const source = $('dmn-daten');
if (source && $('dmn-editor')) {
  main(JSON.parse(source.textContent));
}
