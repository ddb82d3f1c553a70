// The CLI/CI run of the modeller's live lint: every .bpmn file of a folder against .bpmnlintrc (the rules of
// frontend/bpmnlint-plugin-egs), with the form files of forms/ and the decision-table outputs of the folder's
// .dmn files as context – the same rules and messages the browser shows. Exit code 1 if any error is found.
// usage: node frontend/lint-models.mjs [processes-dir] [forms-dir]      (npm run lint:models)
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { Linter } = require('bpmnlint');
const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');
const { BpmnModdle } = require('bpmn-moddle');
const { setContext } = require('bpmnlint-plugin-egs/context.js');
const { formInfo } = require('bpmnlint-plugin-egs/forms.js');
const spiffworkflow = require('bpmnlint-plugin-egs/spiffworkflow-moddle.js');

const [processesDir = 'processes', formsDir = 'forms'] = process.argv.slice(2);
const files = (dir, ext) => readdirSync(dir).filter((name) => name.endsWith(ext)).sort();

const forms = {};
for (const name of files(formsDir, '.json')) {
  let schema = null;
  try {
    schema = JSON.parse(readFileSync(path.join(formsDir, name), 'utf8'));
  } catch (error) {
    schema = null;
  }
  forms[name] = formInfo(schema);
}
const decisionOutputs = files(processesDir, '.dmn').flatMap((name) => [
  ...readFileSync(path.join(processesDir, name), 'utf8').matchAll(/<(?:\w+:)?output\b[^>]*\bname="([^"]+)"/g),
].map((match) => match[1]));
setContext({ forms, extraNames: decisionOutputs });

const config = JSON.parse(readFileSync('.bpmnlintrc', 'utf8'));
const moddle = new BpmnModdle({ spiffworkflow });
let errors = 0;
let warnings = 0;
for (const name of files(processesDir, '.bpmn')) {
  const file = path.join(processesDir, name);
  let reports;
  try {
    const { rootElement } = await moddle.fromXML(readFileSync(file, 'utf8'));
    // a new linter per file, as bpmnlint's own CLI does: some rules keep state while walking one diagram
    reports = await new Linter({ config, resolver: new NodeResolver() }).lint(rootElement);
  } catch (error) {
    console.log(`${file}\n  Fehler  Die Datei ist kein lesbares BPMN: ${error.message}`);
    errors += 1;
    continue;
  }
  const lines = Object.entries(reports).flatMap(([rule, found]) => found.map((report) => {
    if (report.category === 'error' || report.category === 'rule-error') errors += 1;
    else warnings += 1;
    const level = report.category === 'warn' ? 'Warnung' : 'Fehler';
    return `  ${report.id || '-'}  ${level}  ${report.message}  (${rule})`;
  }));
  if (lines.length) console.log(`${file}\n${lines.join('\n')}`);
}
console.log(`${files(processesDir, '.bpmn').length} Modelle geprüft: ${errors} Fehler, ${warnings} Warnungen.`);
process.exitCode = errors ? 1 : 0;
