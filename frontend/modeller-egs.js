// The "EGS" group of the properties panel on tasks: EGS role, form, four-eyes step and the clerk's
// instructions, written as spiffworkflow extension elements (each change one undoable command).
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

const HUMAN = ['bpmn:UserTask', 'bpmn:ManualTask'];

function extension(bo, type) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values').find((value) => is(value, type)) : undefined;
}

export function getProperty(element, name) {
  const props = extension(element.businessObject, 'spiffworkflow:Properties');
  const found = props ? props.get('properties').find((p) => p.name === name) : undefined;
  return found ? found.value : undefined;
}

function ensureExtensionElements(element, modeling, bpmnFactory) {
  const bo = element.businessObject;
  let ext = bo.get('extensionElements');
  if (!ext) {
    ext = bpmnFactory.create('bpmn:ExtensionElements', { values: [] });
    ext.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  return ext;
}

function addValue(element, modeling, bpmnFactory, type, attrs) {
  const ext = ensureExtensionElements(element, modeling, bpmnFactory);
  const created = bpmnFactory.create(type, attrs);
  created.$parent = ext;
  modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), created] });
  return created;
}

function setProperty(element, name, value, modeling, bpmnFactory) {
  let props = extension(element.businessObject, 'spiffworkflow:Properties');
  const list = props ? props.get('properties') : [];
  const existing = list.find((p) => p.name === name);
  if (!value) {
    if (existing) modeling.updateModdleProperties(element, props, { properties: list.filter((p) => p !== existing) });
    return;
  }
  if (existing) {
    modeling.updateModdleProperties(element, existing, { value });
    return;
  }
  if (!props) props = addValue(element, modeling, bpmnFactory, 'spiffworkflow:Properties', { properties: [] });
  const created = bpmnFactory.create('spiffworkflow:Property', { name, value });
  created.$parent = props;
  modeling.updateModdleProperties(element, props, { properties: [...props.get('properties'), created] });
}

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
  return h(TextAreaEntry, {
    element, id, debounce, rows: 5, label: 'Hinweise für die Sachbearbeitung',
    getValue: () => {
      const found = extension(element.businessObject, 'spiffworkflow:InstructionsForEndUser');
      return found ? found.value || '' : '';
    },
    setValue: (value) => {
      const found = extension(element.businessObject, 'spiffworkflow:InstructionsForEndUser');
      if (found) {
        modeling.updateModdleProperties(element, found, { value });
      } else if (value) {
        addValue(element, modeling, bpmnFactory, 'spiffworkflow:InstructionsForEndUser', { value });
      }
    },
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
  return { id: 'egs', label: 'EGS', entries, shouldOpen: true };
}

function EgsPropertiesProvider(propertiesPanel) {
  // getGroups must exist before registerProvider, or the panel ignores the provider.
  this.getGroups = (element) => (groups) => {
    if (is(element, 'bpmn:Task')) {
      groups.splice(Math.min(1, groups.length), 0, egsGroup(element));
    }
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
