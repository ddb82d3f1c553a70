// An exclusive or inclusive gateway with more than one outgoing flow has a default flow.
module.exports = function () {
  function check(node, reporter) {
    if (node.$type !== 'bpmn:ExclusiveGateway' && node.$type !== 'bpmn:InclusiveGateway') return;
    if ((node.outgoing || []).length > 1 && !node.default) {
      reporter.report(node.id, 'Das Gateway hat keinen Standardfluss (default).');
    }
  }
  return { check };
};
