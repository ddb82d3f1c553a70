// Entries of the "EGS" group of a task for what runs on the server: the script of a script task, the scripts
// before/after any task (spiffworkflow:preScript/postScript), the decision a business rule task calls
// (spiffworkflow:calledDecisionId, from the deployed decision tables) and a service task's operation with its
// parameters (spiffworkflow:serviceTaskOperator, from engine/service_tasks.py's registry). One change, one command.
import { h } from '@bpmn-io/properties-panel/preact';
import {
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import { extension, getText, setOperator, setText } from './modeller-egs-moddle.js';
import { knownNamesHint } from './modeller-egs-flow.js';

const PARAMETER_TYPES = ['any', 'str', 'int', 'float', 'bool', 'list', 'dict'];

const withUnknown = (options, current) => (current && !options.some((option) => option.value === current)
  ? [...options, { value: current, label: `${current} (unbekannt)` }]
  : options);

function ScriptEntry({ element, id }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  const bo = element.businessObject;
  return h(TextAreaEntry, {
    element, id, debounce, rows: 8, monospace: true, label: 'Skript',
    description: `Python in der Sandbox; was es zuweist, wird Teil der Vorgangsdaten. ${knownNamesHint(bo)}`,
    getValue: () => bo.script || '',
    setValue: (value) => modeling.updateModdleProperties(element, bo, { script: value || undefined }),
  });
}

function ExtensionScriptEntry({ element, id, type, label, description }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const debounce = useService('debounceInput');
  return h(TextAreaEntry, {
    element, id, debounce, rows: 3, monospace: true, label, description,
    getValue: () => getText(element.businessObject, type),
    setValue: (value) => setText(element, type, value, modeling, bpmnFactory),
  });
}

function PreScriptEntry({ element, id }) {
  return h(ExtensionScriptEntry, {
    element, id, type: 'spiffworkflow:PreScript', label: 'Skript davor',
    description: 'Läuft, bevor der Schritt beginnt (z. B. den Stichtag einer Entscheidungstabelle setzen).',
  });
}

function PostScriptEntry({ element, id }) {
  return h(ExtensionScriptEntry, {
    element, id, type: 'spiffworkflow:PostScript', label: 'Skript danach',
    description: 'Läuft, wenn der Schritt abgeschlossen ist.',
  });
}

function DecisionEntry({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const config = useService('config.egs');
  const type = 'spiffworkflow:CalledDecisionId';
  return h(SelectEntry, {
    element, id, label: 'Entscheidungstabelle',
    description: 'Eine der bereitgestellten Entscheidungstabellen (DMN); ihre Ergebnisse werden Vorgangsdaten.',
    getValue: () => getText(element.businessObject, type),
    setValue: (value) => setText(element, type, value, modeling, bpmnFactory),
    getOptions: () => withUnknown([{ value: '', label: '– bitte wählen –' },
      ...(config.decisions || []).map((d) => ({ value: d.id, label: `${d.name} (${d.id})` }))],
    getText(element.businessObject, type)),
  });
}

const operatorOf = (element) => extension(element.businessObject, 'spiffworkflow:ServiceTaskOperator');
const parametersOf = (operator) => (operator && operator.parameters ? operator.parameters.get('parameters') : []);

function OperationEntry({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const config = useService('config.egs');
  const operations = config.operations || [];
  const operator = operatorOf(element);
  const chosen = operations.find((op) => operator && op.name === operator.id);
  return h(SelectEntry, {
    element, id, label: 'Service-Operation',
    description: chosen
      ? `Erwartet ${chosen.params.length ? `die Parameter ${chosen.params.join(', ')}` : 'keine Parameter'}.`
      : 'Eine der Operationen, die die Plattform anbietet.',
    getValue: () => (operatorOf(element) ? operatorOf(element).id || '' : ''),
    setValue: (value) => {
      const op = operations.find((candidate) => candidate.name === value);
      setOperator(element, value, op ? op.params : parametersOf(operatorOf(element)).map((p) => p.id), modeling,
        bpmnFactory);
    },
    getOptions: () => withUnknown([{ value: '', label: '– keine –' },
      ...operations.map((op) => ({ value: op.name, label: op.name }))], operator && operator.id),
  });
}

function ResultEntry({ element, id }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    element, id, debounce, label: 'Ergebnis speichern als',
    description: 'Name der Vorgangsvariablen, die das Ergebnis der Operation aufnimmt.',
    getValue: () => (operatorOf(element) ? operatorOf(element).resultVariable || '' : ''),
    setValue: (value) => operatorOf(element)
      && modeling.updateModdleProperties(element, operatorOf(element), { resultVariable: value || undefined }),
  });
}

const parameterOf = (element, name) => parametersOf(operatorOf(element)).find((p) => p.id === name);

function ParameterValueEntry({ element, id, name }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return h(TextFieldEntry, {
    element, id, debounce, label: `Parameter „${name}“`,
    description: 'Python-Ausdruck über die Vorgangsdaten, z. B. betrag oder "auszahlung".',
    getValue: () => (parameterOf(element, name) ? parameterOf(element, name).value || '' : ''),
    setValue: (value) => parameterOf(element, name)
      && modeling.updateModdleProperties(element, parameterOf(element, name), { value: value || '' }),
  });
}

function ParameterTypeEntry({ element, id, name }) {
  const modeling = useService('modeling');
  return h(SelectEntry, {
    element, id, label: `Typ von „${name}“`,
    getValue: () => (parameterOf(element, name) ? parameterOf(element, name).type || 'any' : 'any'),
    setValue: (value) => parameterOf(element, name)
      && modeling.updateModdleProperties(element, parameterOf(element, name), { type: value }),
    getOptions: () => withUnknown(PARAMETER_TYPES.map((type) => ({ value: type, label: type })),
      parameterOf(element, name) && parameterOf(element, name).type),
  });
}

export function codeEntries(element) {
  const entries = [];
  if (is(element, 'bpmn:ScriptTask')) {
    entries.push({ id: 'egs-skript', element, component: ScriptEntry, isEdited: isTextAreaEntryEdited });
  }
  if (is(element, 'bpmn:BusinessRuleTask')) {
    entries.push({ id: 'egs-entscheidung', element, component: DecisionEntry, isEdited: isSelectEntryEdited });
  }
  if (is(element, 'bpmn:ServiceTask')) {
    entries.push({ id: 'egs-operation', element, component: OperationEntry, isEdited: isSelectEntryEdited });
    const operator = operatorOf(element);
    if (operator) {
      entries.push({ id: 'egs-ergebnis', element, component: ResultEntry, isEdited: isTextFieldEntryEdited });
      for (const [index, param] of parametersOf(operator).entries()) {
        const name = param.id;
        entries.push(
          { id: `egs-parameter-${index}`, element, name, component: ParameterValueEntry, isEdited: isTextFieldEntryEdited },
          { id: `egs-parametertyp-${index}`, element, name, component: ParameterTypeEntry, isEdited: isSelectEntryEdited },
        );
      }
    }
  }
  entries.push(
    { id: 'egs-skript-davor', element, component: PreScriptEntry, isEdited: isTextAreaEntryEdited },
    { id: 'egs-skript-danach', element, component: PostScriptEntry, isEdited: isTextAreaEntryEdited },
  );
  return entries;
}
