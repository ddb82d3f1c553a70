// Moddle extension (CommonJS: the bpmnlint CLI requires it via .bpmnlintrc, the modeller bundles it) for the SpiffWorkflow namespace our loader reads (engine/model_loader.py): properties as
// <spiffworkflow:properties><spiffworkflow:property name=… value=…/></…>, text elements with a body, and the
// service-task operator with its parameters. Same prefix and URI, so saving keeps every element as it was.
const text = (name) => ({
  name,
  superClass: ['Element'],
  properties: [{ name: 'value', type: 'String', isBody: true }],
});

const attr = (name) => ({ name, type: 'String', isAttr: true });

module.exports = {
  name: 'SpiffWorkflow',
  uri: 'http://spiffworkflow.org/bpmn/schema/1.0/core',
  prefix: 'spiffworkflow',
  xml: { tagAlias: 'lowerCase' },
  associations: [],
  types: [
    { name: 'Properties', superClass: ['Element'], properties: [{ name: 'properties', type: 'Property', isMany: true }] },
    { name: 'Property', superClass: ['Element'], properties: [attr('name'), attr('value')] },
    text('InstructionsForEndUser'),
    text('PreScript'),
    text('PostScript'),
    text('CalledDecisionId'),
    text('MessagePayload'),
    text('MessageVariable'),
    {
      name: 'ServiceTaskOperator',
      superClass: ['Element'],
      properties: [attr('id'), attr('resultVariable'), { name: 'parameters', type: 'Parameters' }],
    },
    { name: 'Parameters', superClass: ['Element'], properties: [{ name: 'parameters', type: 'Parameter', isMany: true }] },
    { name: 'Parameter', superClass: ['Element'], properties: [attr('id'), attr('type'), attr('value')] },
  ],
};
