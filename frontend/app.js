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
