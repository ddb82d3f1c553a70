// The names a script or condition of a model may read besides the sandbox's own: what the model itself writes
// (script variables, service results, message variables) and the fields of forms. Shared by the script-names rule
// and the modeller's hints (frontend/modeller-egs-flow.js), so both know the same names.
const { allElements, extensionText, properties, scripts } = require('./model');
const { scan } = require('./python-names');

// Like the server: names set by any process of the file count (called processes share the case data).
function processesOf(node) {
  const root = node.$parent && node.$parent.rootElements ? node.$parent : null;
  return (root ? root.rootElements : [node]).filter((e) => e.$type === 'bpmn:Process');
}

function writtenByModel(processes) {
  const names = new Set();
  for (const process of processes) {
    for (const element of allElements(process)) {
      // message variables sit on the event definition, operators on the task
      for (const owner of [element, ...(element.eventDefinitions || [])]) {
        const variable = extensionText(owner, 'spiffworkflow:MessageVariable');
        if (variable) names.add(variable.trim());
        for (const ext of (owner.extensionElements && owner.extensionElements.values) || []) {
          if (ext.$type === 'spiffworkflow:ServiceTaskOperator' && ext.resultVariable) names.add(ext.resultVariable);
        }
      }
    }
    scripts(process).forEach(([source]) => scan(source).bound.forEach((name) => names.add(name)));
  }
  return names;
}

// The form files the tasks of these processes name.
function formsUsed(processes) {
  const names = new Set();
  for (const process of processes) {
    for (const element of allElements(process)) {
      const form = properties(element).formJsonSchemaFilename;
      if (form) names.add(form);
    }
  }
  return names;
}

function fieldsOf(forms, names) {
  const fields = new Set();
  for (const name of names) ((forms && forms[name] && forms[name].fields) || []).forEach((field) => fields.add(field));
  return fields;
}

module.exports = { processesOf, writtenByModel, formsUsed, fieldsOf };
