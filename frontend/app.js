// Site-wide behaviour, loaded with `defer` on every page (no inline scripts: strict CSP).
import htmx from 'htmx.org';

window.htmx = htmx;

// Confirm destructive or irreversible buttons marked with data-confirm.
document.addEventListener('submit', (event) => {
  const button = event.submitter;
  const message = button && button.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Forms marked data-warnen ask before the page is left with input that was not sent: changed since the page
// loaded, or (data-warnen="geaendert") shown again after a refused submit. Sending the form is not leaving it.
const guarded = document.querySelectorAll('form[data-warnen]');
guarded.forEach((form) => {
  form.dataset.ungesichert = form.dataset.warnen === 'geaendert' ? 'ja' : 'nein';
  const mark = () => {
    form.dataset.ungesichert = 'ja';
  };
  form.addEventListener('input', mark);
  form.addEventListener('change', mark);
  form.addEventListener('submit', () => {
    form.dataset.ungesichert = 'nein';
  });
});
window.addEventListener('beforeunload', (event) => {
  if ([...guarded].some((form) => form.dataset.ungesichert === 'ja')) {
    event.preventDefault();
    event.returnValue = '';
  }
});

// A page answering a POST (e.g. the form shown again with errors) turns its history entry into a plain GET of
// the same address: Back to it loads the current state instead of the browser's form-resubmission page.
if (document.querySelector('[data-verlauf-als-get]') && window.history.replaceState) {
  window.history.replaceState(null, '', window.location.href);
}
