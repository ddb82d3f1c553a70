// The form editor of the modeller page: a task form's JSON Schema in a text area, a live preview rendered by the
// server with the task page's own macros (after the checks every form passes) and "save in the draft".
const PREVIEW_MS = 400;

export function bindFormEditor({ csrf, data, names, getLock, setLock, flush }) {
  const $ = (id) => document.getElementById(id);
  const select = $('formular-wahl');
  const text = $('formular-json');
  const preview = $('formular-vorschau');
  const error = $('formular-fehler');
  const status = $('formular-status');
  let timer = null;
  let loaded = null;

  for (const name of names) select.append(new Option(name, name));
  const showError = (message) => {
    error.textContent = message || '';
    error.hidden = !message;
    if (message) text.setAttribute('aria-invalid', 'true');
    else text.removeAttribute('aria-invalid');
  };
  const post = (url, body) => fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/html;q=0.9', 'X-CSRFToken': csrf },
    body: JSON.stringify(body),
  });
  const parsed = () => {
    try {
      return { schema: JSON.parse(text.value) };
    } catch (e) {
      return { problem: `Kein gültiges JSON: ${e.message}` };
    }
  };

  async function refresh() {
    const { schema, problem } = parsed();
    if (problem) return showError(problem);
    const response = await post(data.previewUrl, { schema });
    if (response.ok) {
      showError('');
      preview.innerHTML = await response.text(); // server-rendered and escaped by Jinja
    } else {
      const json = await response.json().catch(() => ({}));
      showError(json.message || `Fehler ${response.status}`);
    }
  }

  $('formular-laden').addEventListener('click', async () => {
    const name = select.value;
    const response = await fetch(data.formUrl.replace('__NAME__', encodeURIComponent(name)),
      { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) return showError(`Das Formular ${name} konnte nicht geladen werden.`);
    text.value = JSON.stringify((await response.json()).schema, null, 2);
    loaded = name;
    status.textContent = `Formular ${name} geladen.`;
    await refresh();
  });
  text.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, PREVIEW_MS);
  });
  $('formular-speichern').addEventListener('click', async () => {
    const { schema, problem } = parsed();
    if (!loaded) return showError('Bitte zuerst ein Formular laden.');
    if (problem) return showError(problem);
    if (!(await flush())) return;
    const response = await post(data.formUrl.replace('__NAME__', encodeURIComponent(loaded)), { schema, lock_version: getLock() });
    const json = await response.json().catch(() => ({}));
    if (response.ok) {
      setLock(json.lock_version);
      showError('');
      status.textContent = `Formular ${loaded} im Entwurf gespeichert; es wird mit dem Entwurf bereitgestellt.`;
    } else {
      showError(json.message || `Fehler ${response.status}`);
      status.textContent = 'Formular nicht gespeichert.';
    }
  });
}
