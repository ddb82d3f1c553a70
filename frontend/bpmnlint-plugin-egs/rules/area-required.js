// Every process names its area of the § 6 VZÄ plan (property egsBereich); a task may name its own
// (engine/model_lint.py: the staffing figures count each open task and each new case in its area).
const { vocabulary } = require('../context');
const { isExecutableProcess, tasksWithLanes, properties } = require('../model');

module.exports = function () {
  function check(node, reporter) {
    if (!isExecutableProcess(node)) return;
    const allowed = Object.keys(vocabulary.areas);
    if (!allowed.includes((properties(node).egsBereich || '').trim())) {
      reporter.report(node.id, "Eigenschaft 'egsBereich' des Prozesses fehlt oder ist ungültig (Aufgabenbereich nach § 6); "
        + `erlaubt: ${allowed.join(', ')}.`);
    }
    for (const { element } of tasksWithLanes(node)) {
      const own = properties(element).egsBereich;
      if (own !== undefined && !allowed.includes(own.trim())) {
        reporter.report(element.id, `Eigenschaft 'egsBereich' der Aufgabe ist ungültig; erlaubt: ${allowed.join(', ')} `
          + '(oder leer lassen: dann gilt der Bereich des Prozesses).');
      }
    }
  }
  return { check };
};
