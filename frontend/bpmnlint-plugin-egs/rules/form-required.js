// Every user task names a form that exists and is valid (the server also checks the form's rules).
const { getContext } = require('../context');
const { isExecutableProcess, tasksWithLanes, properties, isUserTask } = require('../model');

module.exports = function () {
  function check(node, reporter) {
    if (!isExecutableProcess(node)) return;
    const { forms } = getContext();
    for (const { element } of tasksWithLanes(node)) {
      if (!isUserTask(element)) continue;
      const form = properties(element).formJsonSchemaFilename;
      if (!form) reporter.report(element.id, "Die Benutzeraufgabe hat kein Formular (Eigenschaft 'formJsonSchemaFilename').");
      else if (forms && !(form in forms)) reporter.report(element.id, `Das Formular '${form}' fehlt.`);
      else if (forms && !forms[form].valid) reporter.report(element.id, `Das Formular '${form}' ist ungültig.`);
    }
  }
  return { check };
};
