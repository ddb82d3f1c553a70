// SpiffWorkflow names its own start and end tasks "Start" and "End": a model element may not use these ids.
const { vocabulary } = require('../context');

module.exports = function () {
  function check(node, reporter) {
    if (node.id && vocabulary.reservedIds.includes(node.id)) {
      reporter.report(node.id, `Die ID '${node.id}' ist für die Engine reserviert; bitte umbenennen (z. B. 'Event_${node.id}').`);
    }
  }
  return { check };
};
