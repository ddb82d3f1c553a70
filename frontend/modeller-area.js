// The area of the § 6 VZÄ plan in the modeller's properties panel (property egsBereich): required on the process
// (shown on the pool, whose process it is, or on the process itself) and optional on a task that belongs to another
// area than its process. The choices come from the lint's copy of the engine's vocabulary (WORK_AREAS).
import { h } from '@bpmn-io/properties-panel/preact';
import { SelectEntry, isSelectEntryEdited } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import vocabulary from 'bpmnlint-plugin-egs/vocabulary.json';
import { getProperty, setProperty } from './modeller-egs-moddle.js';

const NAME = 'egsBereich';

// The model element that carries the property: a pool's process, else the element itself.
function owner(element) {
  const bo = element.businessObject;
  return is(bo, 'bpmn:Participant') ? bo.processRef || null : bo;
}

function readArea(target) {
  return (target && getProperty(null, NAME, target)) || '';
}

function AreaEntry({ element, id, forTask }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const target = owner(element);
  return h(SelectEntry, {
    element, id, label: 'Aufgabenbereich (§ 6)',
    description: forTask
      ? 'Nur wählen, wenn dieser Schritt zu einem anderen Bereich des VZÄ-Plans gehört als der Prozess.'
      : 'Pflicht: zu welchem Bereich des VZÄ-Plans der Prozess gehört (Personallage, RACI).',
    getValue: () => readArea(target),
    setValue: (value) => setProperty(element, NAME, value, modeling, bpmnFactory, target),
    getOptions: () => {
      const options = [{ value: '', label: forTask ? '– wie der Prozess –' : '– bitte wählen –' },
        ...Object.entries(vocabulary.areas).map(([value, label]) => ({ value, label }))];
      const current = readArea(target);
      if (current && !(current in vocabulary.areas)) options.push({ value: current, label: `${current} (unbekannt)` });
      return options;
    },
  });
}

function AreaProvider(propertiesPanel) {
  this.getGroups = (element) => (groups) => {
    const bo = element.businessObject;
    const isProcess = is(bo, 'bpmn:Process') || (is(bo, 'bpmn:Participant') && bo.processRef);
    if (!isProcess && !is(element, 'bpmn:Task')) return groups;
    const entry = { id: 'egs-bereich', element, component: AreaEntry, forTask: !isProcess, isEdited: isSelectEntryEdited };
    const egs = groups.find((group) => group.id === (isProcess ? 'egs-prozess' : 'egs'));
    if (egs) egs.entries.splice(isProcess ? 0 : 1, 0, entry); // first on the process, after the EGS role on a task
    else groups.splice(Math.min(1, groups.length), 0, { id: 'egs', label: 'EGS', entries: [entry], shouldOpen: true });
    return groups;
  };
  propertiesPanel.registerProvider(400, this); // after the EGS group of modeller-egs.js (priority 500)
}

AreaProvider.$inject = ['propertiesPanel'];

export default {
  __init__: ['egsAreaProvider'],
  egsAreaProvider: ['type', AreaProvider],
};
