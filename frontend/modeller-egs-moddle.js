// Reading and writing our spiffworkflow extension elements from the EGS panel. Every write is ONE
// `element.updateModdleProperties` command (new elements are built complete first, then attached), so one change in
// the panel is one step of undo. `bo` is the business object written to: the element's own, or for a pool the
// process it stands for (its processRef).
import { is } from 'bpmn-js/lib/util/ModelUtil';

export function extension(bo, type) {
  const ext = bo && bo.get('extensionElements');
  return ext ? ext.get('values').find((value) => is(value, type)) : undefined;
}

export function getProperty(element, name, bo = element.businessObject) {
  const props = extension(bo, 'spiffworkflow:Properties');
  const found = props ? props.get('properties').find((p) => p.name === name) : undefined;
  return found ? found.value : undefined;
}

function create(bpmnFactory, type, attrs, parent) {
  const created = bpmnFactory.create(type, attrs);
  created.$parent = parent;
  return created;
}

// Attach a complete new extension element (creating bpmn:extensionElements with it if there is none).
function addExtension(element, bo, created, modeling, bpmnFactory) {
  const ext = bo.get('extensionElements');
  if (ext) {
    created.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), created] });
    return;
  }
  const fresh = create(bpmnFactory, 'bpmn:ExtensionElements', { values: [created] }, bo);
  created.$parent = fresh;
  modeling.updateModdleProperties(element, bo, { extensionElements: fresh });
}

export function removeExtension(element, bo, value, modeling) {
  const ext = bo.get('extensionElements');
  modeling.updateModdleProperties(element, ext, { values: ext.get('values').filter((other) => other !== value) });
}

// Add, change or (empty value) remove one name/value pair of <spiffworkflow:properties>.
export function setProperty(element, name, value, modeling, bpmnFactory, bo = element.businessObject) {
  const props = extension(bo, 'spiffworkflow:Properties');
  const list = props ? props.get('properties') : [];
  const existing = list.find((p) => p.name === name);
  if (!value) {
    if (existing) modeling.updateModdleProperties(element, props, { properties: list.filter((p) => p !== existing) });
  } else if (existing) {
    if (existing.value !== value) modeling.updateModdleProperties(element, existing, { value });
  } else if (props) {
    modeling.updateModdleProperties(element, props, {
      properties: [...list, create(bpmnFactory, 'spiffworkflow:Property', { name, value }, props)],
    });
  } else {
    const fresh = bpmnFactory.create('spiffworkflow:Properties', { properties: [] });
    fresh.get('properties').push(create(bpmnFactory, 'spiffworkflow:Property', { name, value }, fresh));
    addExtension(element, bo, fresh, modeling, bpmnFactory);
  }
}

// Text elements with a body (instructionsForEndUser, preScript, postScript, calledDecisionId).
export function getText(bo, type) {
  const found = extension(bo, type);
  return found ? found.value || '' : '';
}

export function setText(element, type, value, modeling, bpmnFactory, bo = element.businessObject) {
  const found = extension(bo, type);
  if (found && value) {
    if (found.value !== value) modeling.updateModdleProperties(element, found, { value });
  } else if (found) {
    removeExtension(element, bo, found, modeling);
  } else if (value) {
    addExtension(element, bo, bpmnFactory.create(type, { value }), modeling, bpmnFactory);
  }
}

// The service-task operator: a new operation keeps the values of parameters of the same name.
export function setOperator(element, name, params, modeling, bpmnFactory) {
  const bo = element.businessObject;
  const found = extension(bo, 'spiffworkflow:ServiceTaskOperator');
  if (!name) {
    if (found) removeExtension(element, bo, found, modeling);
    return;
  }
  const old = new Map(((found && found.parameters && found.parameters.get('parameters')) || []).map((p) => [p.id, p]));
  const parameters = bpmnFactory.create('spiffworkflow:Parameters', { parameters: [] });
  for (const param of params) {
    const before = old.get(param);
    parameters.get('parameters').push(create(bpmnFactory, 'spiffworkflow:Parameter',
      { id: param, type: before ? before.type : 'any', value: before ? before.value : '' }, parameters));
  }
  if (found) {
    parameters.$parent = found;
    modeling.updateModdleProperties(element, found, { id: name, parameters });
    return;
  }
  const operator = bpmnFactory.create('spiffworkflow:ServiceTaskOperator', { id: name, parameters });
  parameters.$parent = operator;
  addExtension(element, bo, operator, modeling, bpmnFactory);
}
