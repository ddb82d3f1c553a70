// The modeller's deploy step: comment → the changes against the live version (server-side diff) → confirm →
// deploy. The server checks the draft again (lint, forms, stale lock_version) and audits the diff summary.
const $ = (id) => document.getElementById(id);

async function fetchDiff(url) {
  try {
    const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    return response.ok ? await response.json() : null;
  } catch (error) {
    return null;
  }
}

function listChanges(list, diff) {
  list.replaceChildren();
  for (const change of diff.aenderungen) {
    const item = document.createElement('li');
    const label = change.name ? `${change.name} (${change.id})` : change.id;
    item.textContent = `${label}: ${change.art_text}${change.details.length && change.art !== 'layout' ? ` – ${change.details.join('; ')}` : ''}`;
    list.append(item);
  }
  for (const form of diff.formulare) {
    const item = document.createElement('li');
    item.textContent = `Formular ${form}`;
    list.append(item);
  }
}

// ctx: { data, csrf, saveNow, postJson, setStatus, showProblems, clearProblems, lockVersion() }
export function setupDeploy(ctx) {
  const form = $('modeller-bereitstellen');
  const comment = $('kommentar');
  const commentError = $('kommentar-fehler');
  const confirmBox = $('bereitstellen-bestaetigung');
  const summary = $('bestaetigung-zusammenfassung');
  const list = $('bestaetigung-liste');
  const fieldError = (text) => {
    commentError.textContent = text || '';
    commentError.hidden = !text;
    if (text) comment.setAttribute('aria-invalid', 'true');
    else comment.removeAttribute('aria-invalid');
  };
  const closeConfirm = () => {
    confirmBox.hidden = true;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    ctx.clearProblems();
    closeConfirm();
    fieldError('');
    if (!comment.value.trim()) {
      fieldError('Bitte beschreiben Sie kurz, was sich ändert.');
      comment.focus();
      return;
    }
    if (!(await ctx.saveNow())) return;
    const diff = await fetchDiff(ctx.data.diffUrl);
    if (!diff) {
      ctx.setStatus('Die Änderungen konnten nicht ermittelt werden. Bitte erneut versuchen.', true);
      return;
    }
    summary.textContent = `Gegenüber der Live-Version ${diff.live_version}: ${diff.zusammenfassung}.`;
    listChanges(list, diff);
    confirmBox.hidden = false;
    confirmBox.focus();
  });

  $('bestaetigung-nein').addEventListener('click', () => {
    closeConfirm();
    comment.focus();
  });

  $('bestaetigung-ja').addEventListener('click', async () => {
    closeConfirm();
    if (!(await ctx.saveNow())) return;
    ctx.setStatus('Wird bereitgestellt …');
    const result = await ctx.postJson(ctx.data.deployUrl, { comment: comment.value, lock_version: ctx.lockVersion() }, ctx.csrf);
    if (result.ok) {
      ctx.setStatus(result.json.message);
      if (result.json.url) window.location.href = result.json.url;
      return;
    }
    ctx.setStatus('Nicht bereitgestellt.', true);
    if (result.json.field_errors && result.json.field_errors.kommentar) {
      fieldError(result.json.field_errors.kommentar.join(' '));
      comment.focus();
    } else {
      ctx.showProblems('Die Version wurde nicht bereitgestellt', result.json.problems || [{ message: result.json.message || `Fehler ${result.status}` }]);
    }
  });
}
