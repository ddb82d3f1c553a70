// The "EGS" group of a sequence flow out of an exclusive or inclusive gateway: its condition
// (bpmn:conditionExpression, a Python expression over the case data), with a hint which names the expression may
// read – the same names the live lint accepts (bpmnlint-plugin-egs/known-names.js). One change, one command.
import { h } from '@bpmn-io/properties-panel/preact';
import { TextAreaEntry, isTextAreaEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import { getContext, vocabulary } from 'bpmnlint-plugin-egs/context.js';
import { fieldsOf, formsUsed, processesOf, writtenByModel } from 'bpmnlint-plugin-egs/known-names.js';

const BRANCHING = ['bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway'];

function processOfFlow(bo) {
  let node = bo;
  while (node && !is(node, 'bpmn:Process')) node = node.$parent;
  return node;
}

// "Bekannte Namen: …" for an expression of `bo`: the model's own names and form fields, decision outputs,
// start values and the sandbox's functions.
export function knownNamesHint(bo) {
  const process = processOfFlow(bo);
  if (!process) return '';
  const processes = processesOf(process);
  const { forms, extraNames } = getContext();
  const data = new Set([...writtenByModel(processes), ...fieldsOf(forms, formsUsed(processes)), ...extraNames]);
  const sorted = (names) => [...names].sort((a, b) => a.localeCompare(b, 'de')).join(', ');
  return `Bekannte Namen: ${sorted(data) || '(noch keine)'}. Startwerte: ${sorted(vocabulary.startValues)}. `
    + `Funktionen: ${sorted(vocabulary.functions)}.`;
}

function ConditionEntry({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const debounce = useService('debounceInput');
  const bo = element.businessObject;
  const isDefault = bo.sourceRef && bo.sourceRef.default === bo;
  return h(TextAreaEntry, {
    element, id, debounce, rows: 3, monospace: true, label: 'Bedingung',
    description: isDefault
      ? 'Dies ist der Standardfluss der Verzweigung: er wird genommen, wenn keine Bedingung zutrifft, und braucht keine.'
      : `Python-Ausdruck, z. B. anliegen == "erstantrag". ${knownNamesHint(bo)}`,
    getValue: () => (bo.conditionExpression && bo.conditionExpression.body) || '',
    setValue: (value) => {
      const expression = bo.conditionExpression;
      if (!value) {
        if (expression) modeling.updateModdleProperties(element, bo, { conditionExpression: undefined });
      } else if (expression) {
        modeling.updateModdleProperties(element, expression, { body: value });
      } else {
        const created = bpmnFactory.create('bpmn:FormalExpression', { body: value });
        created.$parent = bo;
        modeling.updateModdleProperties(element, bo, { conditionExpression: created });
      }
    },
  });
}

export function flowGroup(element) {
  const bo = element.businessObject;
  if (!is(element, 'bpmn:SequenceFlow') || !BRANCHING.some((type) => is(bo.sourceRef, type))) return null;
  return {
    id: 'egs-fluss',
    label: 'EGS',
    shouldOpen: true,
    entries: [{ id: 'egs-bedingung', element, component: ConditionEntry, isEdited: isTextAreaEntryEdited }],
  };
}
