// The "EGS" group of the properties panel on tasks: EGS role, form, four-eyes step and the clerk's
// instructions, written as spiffworkflow extension elements (each change one undoable command). Scripts, decision
// and service operation of a task come from modeller-egs-code.js, the groups of processes and flows from
// modeller-egs-process.js and modeller-egs-flow.js.
import { h } from '@bpmn-io/properties-panel/preact';
import {
  SelectEntry,
  TextAreaEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
} from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import areaModule from './modeller-area.js';
import { getProperty, getText, setProperty, setText } from './modeller-egs-moddle.js';
export { getProperty, setProperty } from './modeller-egs-moddle.js';
import { codeEntries } from './modeller-egs-code.js';
import { flowGroup } from './modeller-egs-flow.js';
import { processGroup } from './modeller-egs-process.js';

const HUMAN = ['bpmn:UserTask', 'bpmn:ManualTask'];

function PropertySelect({ element, id, label, name, options, description }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  return h(SelectEntry, {
    element,
    id,
    label,
    description,
    getValue: () => getProperty(element, name) || '',
    setValue: (value) => setProperty(element, name, value, modeling, bpmnFactory),
    getOptions: () => {
      const current = getProperty(element, name);
      const all = options();
      if (current && !all.some((option) => option.value === current)) {
        all.push({ value: current, label: `${current} (unbekannt)` });
      }
      return all;
    },
  });
}

function RoleEntry({ element, id }) {
  const config = useService('config.egs');
  return h(PropertySelect, {
    element, id, name: 'egsRole', label: 'EGS-Rolle',
    description: 'Welche Rolle der Eingangsservice bei diesem Schritt hat (Pflicht für jede Aufgabe).',
    options: () => [{ value: '', label: '– bitte wählen –' }, ...config.roles.map((role) => ({ value: role, label: role }))],
  });
}

function FormEntry({ element, id }) {
  const config = useService('config.egs');
  return h(PropertySelect, {
    element, id, name: 'formJsonSchemaFilename', label: 'Formular',
    description: 'Das Formular, das die Sachbearbeitung in dieser Aufgabe ausfüllt.',
    options: () => [{ value: '', label: '– kein Formular –' }, ...config.forms.map((form) => ({ value: form, label: form }))],
  });
}

function FourEyesEntry({ element, id }) {
  const registry = useService('elementRegistry');
  return h(PropertySelect, {
    element, id, name: 'egsFourEyes', label: 'Vier-Augen-Prinzip',
    description: 'Nicht dieselbe Person wie beim gewählten Schritt.',
    options: () => [
      { value: '', label: '– keins –' },
      ...registry
        .filter((other) => HUMAN.some((type) => is(other, type)) && other.id !== element.id)
        .map((other) => ({ value: other.id, label: `${other.businessObject.name || other.id} (${other.id})` })),
    ],
  });
}

function InstructionsEntry({ element, id }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const debounce = useService('debounceInput');
  const type = 'spiffworkflow:InstructionsForEndUser';
  return h(TextAreaEntry, {
    element, id, debounce, rows: 5, label: 'Hinweise für die Sachbearbeitung',
    getValue: () => getText(element.businessObject, type),
    setValue: (value) => setText(element, type, value, modeling, bpmnFactory),
  });
}

function egsGroup(element) {
  const entries = [{ id: 'egs-rolle', element, component: RoleEntry, isEdited: isSelectEntryEdited }];
  if (HUMAN.some((type) => is(element, type))) {
    entries.push(
      { id: 'egs-formular', element, component: FormEntry, isEdited: isSelectEntryEdited },
      { id: 'egs-vier-augen', element, component: FourEyesEntry, isEdited: isSelectEntryEdited },
      { id: 'egs-hinweise', element, component: InstructionsEntry, isEdited: isTextAreaEntryEdited },
    );
  }
  entries.push(...codeEntries(element));
  return { id: 'egs', label: 'EGS', entries, shouldOpen: true };
}

function EgsPropertiesProvider(propertiesPanel) {
  // getGroups must exist before registerProvider, or the panel ignores the provider.
  this.getGroups = (element) => (groups) => {
    const group = is(element, 'bpmn:Task') ? egsGroup(element) : processGroup(element) || flowGroup(element);
    if (group) groups.splice(Math.min(1, groups.length), 0, group);
    return groups;
  };
  propertiesPanel.registerProvider(500, this);
}

EgsPropertiesProvider.$inject = ['propertiesPanel'];

export default {
  __depends__: [areaModule],
  __init__: ['egsPropertiesProvider'],
  egsPropertiesProvider: ['type', EgsPropertiesProvider],
};
