// Scripts and conditions read only names that can exist: sandbox functions, start values, form fields,
// variables other scripts set, message and decision outputs. Checked only once the form list is known.
const { getContext, vocabulary } = require('../context');
const { isExecutableProcess, scripts, allElements, extensionText } = require('../model');
const { scan } = require('../python-names');

function writtenByModel(process) {
  const names = new Set();
  for (const element of allElements(process)) {
    // message variables sit on the event definition, operators on the task
    for (const owner of [element, ...(element.eventDefinitions || [])]) {
      const variable = extensionText(owner, 'spiffworkflow:MessageVariable');
      if (variable) names.add(variable.trim());
      for (const ext of (owner.extensionElements && owner.extensionElements.values) || []) {
        if (ext.$type === 'spiffworkflow:ServiceTaskOperator' && ext.resultVariable) names.add(ext.resultVariable);
      }
    }
  }
  return names;
}

module.exports = function () {
  function check(node, reporter) {
    if (!isExecutableProcess(node)) return;
    const { forms, extraNames } = getContext();
    if (!forms) return;
    const scan1 = (process) => scripts(process).map(([source, mode, element]) => ({ element, ...scan(source) }));
    const found = scan1(node);
    // Like the server: names set by any process of the file count (called processes share the case data).
    const processes = ((node.$parent && node.$parent.rootElements) || [node]).filter((e) => e.$type === 'bpmn:Process');
    const known = new Set([...vocabulary.scriptNames, ...extraNames]);
    for (const process of processes) {
      writtenByModel(process).forEach((name) => known.add(name));
      scan1(process).forEach(({ bound }) => bound.forEach((name) => known.add(name)));
    }
    Object.values(forms).forEach((form) => (form.fields || []).forEach((name) => known.add(name)));
    for (const { element, loaded } of found) {
      for (const name of [...loaded].sort()) {
        if (!known.has(name)) {
          reporter.report(element.id, `Das Skript verwendet '${name}', das weder ein Formularfeld, eine Skriptvariable, `
            + 'ein Startwert noch eine Funktion der Sandbox ist.');
        }
      }
    }
  }
  return { check };
};
