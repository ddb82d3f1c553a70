// Scripts and conditions read only names that can exist: sandbox functions, start values, form fields,
// variables other scripts set, message and decision outputs. Checked only once the form list is known.
const { getContext, vocabulary } = require('../context');
const { isExecutableProcess, scripts } = require('../model');
const { scan } = require('../python-names');
const { processesOf, writtenByModel, fieldsOf } = require('../known-names');

module.exports = function () {
  function check(node, reporter) {
    if (!isExecutableProcess(node)) return;
    const { forms, extraNames } = getContext();
    if (!forms) return;
    const known = new Set([...vocabulary.scriptNames, ...extraNames, ...writtenByModel(processesOf(node)),
      ...fieldsOf(forms, Object.keys(forms))]);
    for (const [source, , element] of scripts(node)) {
      for (const name of [...scan(source).loaded].sort()) {
        if (!known.has(name)) {
          reporter.report(element.id, `Das Skript verwendet '${name}', das weder ein Formularfeld, eine Skriptvariable, `
            + 'ein Startwert noch eine Funktion der Sandbox ist.');
        }
      }
    }
  }
  return { check };
};
