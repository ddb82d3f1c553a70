// The "EGS" group of a process: the sites where it is offered (egsSites) and the groups that may start it
// (egsStartLanes), each a comma list in <spiffworkflow:properties> of the bpmn:process – for a pool, of the
// process it stands for (processRef), where engine/model_loader.py reads them. One change, one command.
import { h } from '@bpmn-io/properties-panel/preact';
import { CheckboxGroup } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { is } from 'bpmn-js/lib/util/ModelUtil';
import { getProperty, setProperty } from './modeller-egs-moddle.js';

export function processOf(element) {
  if (is(element, 'bpmn:Participant')) return element.businessObject.processRef || null;
  return is(element, 'bpmn:Process') ? element.businessObject : null;
}

const listOf = (value) => (value || '').split(',').map((part) => part.trim()).filter(Boolean);

function ListProperty({ element, id, name, label, description, choices }) {
  const modeling = useService('modeling');
  const bpmnFactory = useService('bpmnFactory');
  const config = useService('config.egs');
  const process = processOf(element);
  const known = config[choices] || [];
  const current = listOf(getProperty(element, name, process));
  // A value the platform does not know (an old site) stays visible, so it can be removed.
  const options = [...known, ...current.filter((v) => !known.some((o) => o.value === v))
    .map((v) => ({ value: v, label: `${v} (unbekannt)` }))];
  return h(CheckboxGroup, {
    element, id, label, description, options,
    getValue: () => listOf(getProperty(element, name, process)),
    setValue: (values) => {
      const ordered = options.map((option) => option.value).filter((value) => values.includes(value));
      setProperty(element, name, ordered.join(','), modeling, bpmnFactory, process);
    },
  });
}

function SitesEntry({ element, id }) {
  return h(ListProperty, {
    element, id, name: 'egsSites', choices: 'sites', label: 'Angeboten an den Standorten',
    description: 'Keiner gewählt: an allen Standorten.',
  });
}

function StartLanesEntry({ element, id }) {
  return h(ListProperty, {
    element, id, name: 'egsStartLanes', choices: 'groups', label: 'Starten dürfen die Gruppen',
    description: 'Keine gewählt: die Gruppe der Lane, in der das Startereignis liegt.',
  });
}

const anyChecked = (node) => Boolean(node && node.closest('[data-entry-id]').querySelector('input:checked'));

export function processGroup(element) {
  if (!processOf(element)) return null;
  return {
    id: 'egs-prozess',
    label: 'EGS',
    shouldOpen: true,
    entries: [
      { id: 'egs-standorte', element, component: SitesEntry, isEdited: anyChecked },
      { id: 'egs-startgruppen', element, component: StartLanesEntry, isEdited: anyChecked },
    ],
  };
}
