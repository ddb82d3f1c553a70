// Every task names its EGS role (property egsRole: Durchführender / Mitwirkender / informatorisch Beteiligter).
const { vocabulary } = require('../context');
const { isExecutableProcess, tasksWithLanes, properties } = require('../model');

module.exports = function () {
  function check(node, reporter) {
    if (!isExecutableProcess(node)) return;
    for (const { element } of tasksWithLanes(node)) {
      if (!vocabulary.roles.includes(properties(element).egsRole)) {
        reporter.report(element.id, `Die EGS-Rolle fehlt oder ist ungültig (Eigenschaft 'egsRole'); erlaubt: ${vocabulary.roles.join(', ')}.`);
      }
    }
  }
  return { check };
};
