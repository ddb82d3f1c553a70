// Every task lies in a lane named after a known group (engine/model_lint.py: "Lane = zuständige Gruppe").
const { vocabulary } = require('../context');
const { isExecutableProcess, tasksWithLanes } = require('../model');

module.exports = function () {
  function check(node, reporter) {
    if (!isExecutableProcess(node)) return;
    for (const { element, lane } of tasksWithLanes(node)) {
      if (!lane) reporter.report(element.id, 'Die Aufgabe liegt in keiner Lane (Lane = zuständige Gruppe).');
      else if (!vocabulary.groups.includes(lane)) {
        reporter.report(element.id, `Lane '${lane}' ist keine bekannte Gruppe (${vocabulary.groups.join(', ')}).`);
      }
    }
  }
  return { check };
};
