// Live lint in the modeller: bpmn-js-bpmnlint with our rules (.bpmnlintrc → frontend/bpmnlint-plugin-egs, packed
// at build time by frontend/build.mjs), German labels, and an accessible list of the findings below the diagram
// (the overlays on the canvas are visual only). The server checks again at deploy; only its lint decides.
import lintModule from 'bpmn-js-bpmnlint';
import { setContext } from 'bpmnlint-plugin-egs/context.js';
import lintConfig from '../.bpmnlintrc';

const GERMAN = {
  'Toggle linting overlays': 'Prüfhinweise im Diagramm ein- oder ausblenden',
  'Issues for child elements': 'Hinweise zu enthaltenen Elementen',
  'No Issues': 'Keine Prüfhinweise',
  '{errors} Errors, {warnings} Warnings': '{errors} Fehler, {warnings} Warnungen',
};

function germanTranslate(template, replacements = {}) {
  return (GERMAN[template] || template).replace(/{([^}]+)}/g, (_, key) => replacements[key] ?? `{${key}}`);
}

export const lintModules = [lintModule, { translate: ['value', germanTranslate] }];
export const lintOptions = { bpmnlint: lintConfig, active: true };

// Forms (valid?, fields) and decision-table outputs from the server; without them form existence and script
// names are not checked in the browser (the server still checks them).
export async function loadLintContext(url) {
  try {
    const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (response.ok) setContext(await response.json());
  } catch (error) {
    // offline: the rules that need the context stay quiet
  }
}

const plural = (count, one, many) => `${count} ${count === 1 ? one : many}`;

export function showLintList(modeler, { summary, list, showElement }) {
  const registry = modeler.get('elementRegistry');
  modeler.on('linting.completed', ({ issues }) => {
    const found = Object.entries(issues).flatMap(([id, entries]) => entries.map((entry) => ({ id, ...entry })));
    const errors = found.filter((entry) => entry.category === 'error');
    const warnings = found.filter((entry) => entry.category === 'warn');
    summary.textContent = found.length
      ? `${plural(errors.length, 'Fehler', 'Fehler')}, ${plural(warnings.length, 'Warnung', 'Warnungen')}.`
      : 'Keine Prüfhinweise.';
    list.replaceChildren();
    for (const entry of [...errors, ...warnings]) {
      const item = document.createElement('li');
      item.className = entry.category === 'error' ? 'pruefung-fehler' : 'pruefung-warnung';
      item.dataset.element = entry.id;
      item.dataset.regel = entry.rule;
      const element = registry.get(entry.id);
      const name = (element && element.businessObject.name) || entry.id;
      item.append(`${entry.category === 'error' ? 'Fehler' : 'Warnung'}: ${entry.message} `);
      if (element) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'link-knopf';
        button.textContent = `Element „${name}“ zeigen`;
        button.addEventListener('click', () => showElement(entry.id));
        item.append(button);
      }
      list.append(item);
    }
  });
}
