// Helpers shared by the rules: EGS properties of an element, tasks with their lane, scripts of a model.
const TASK_TYPES = [
  'bpmn:Task', 'bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:ScriptTask', 'bpmn:ServiceTask', 'bpmn:BusinessRuleTask',
  'bpmn:SendTask', 'bpmn:ReceiveTask', 'bpmn:CallActivity', 'bpmn:SubProcess',
];

function is(element, type) {
  return Boolean(element && element.$instanceOf && element.$instanceOf(type));
}

function extensions(element) {
  return (element.extensionElements && element.extensionElements.values) || [];
}

function properties(element) {
  const found = {};
  for (const ext of extensions(element)) {
    if (ext.$type !== 'spiffworkflow:Properties') continue;
    for (const p of ext.properties || []) found[p.name] = p.value;
  }
  return found;
}

function extensionText(element, type) {
  const ext = extensions(element).find((e) => e.$type === type);
  return ext ? ext.value || '' : null;
}

// The type check the server's TASK_TAGS make: exactly these tags (an AdHocSubProcess is a SubProcess, too).
function isTask(element) {
  return TASK_TYPES.includes(element.$type) || element.$type === 'bpmn:AdHocSubProcess';
}

function isUserTask(element) {
  return element.$type === 'bpmn:UserTask' || element.$type === 'bpmn:ManualTask';
}

function laneMap(process) {
  const lanes = new Map();
  const visit = (laneSet) => {
    for (const lane of (laneSet && laneSet.lanes) || []) {
      for (const node of lane.flowNodeRef || []) lanes.set(node.id, (lane.name || '').trim());
      visit(lane.childLaneSet);
    }
  };
  for (const laneSet of process.laneSets || []) visit(laneSet);
  return lanes;
}

// Every task of a process (also inside sub-processes) with its lane: its own, else the nearest parent's.
function tasksWithLanes(process) {
  const lanes = laneMap(process);
  const found = [];
  const walk = (container, inherited) => {
    for (const element of container.flowElements || []) {
      const lane = lanes.get(element.id) || inherited;
      if (isTask(element)) found.push({ element, lane });
      if (element.flowElements) walk(element, lane);
    }
  };
  walk(process, null);
  return found;
}

// Processes to check: executable ones (the server skips isExecutable="false").
function isExecutableProcess(node) {
  return node.$type === 'bpmn:Process' && node.isExecutable !== false;
}

function allElements(container, found = []) {
  for (const element of container.flowElements || []) {
    found.push(element);
    allElements(element, found);
  }
  return found;
}

// (source, mode, element) of every script and condition, like engine/model_snippets.snippets().
function scripts(process) {
  const found = [];
  for (const element of allElements(process)) {
    if (element.$type === 'bpmn:ScriptTask' && element.script) found.push([element.script, 'exec', element]);
    for (const type of ['spiffworkflow:PreScript', 'spiffworkflow:PostScript']) {
      const text = extensionText(element, type);
      if (text) found.push([text, 'exec', element]);
    }
    if (element.conditionExpression && element.conditionExpression.body) {
      found.push([element.conditionExpression.body, 'eval', element]);
    }
  }
  return found.filter(([text]) => text.trim());
}

module.exports = { is, properties, extensionText, isTask, isUserTask, tasksWithLanes, isExecutableProcess, allElements, scripts };
