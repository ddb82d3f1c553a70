// bpmnlint's own rules with German messages: rules/de-<name>.js wraps bpmnlint/rules/<name> and translates
// what it reports, so the modeller shows one language. An unknown (new) message is passed on unchanged.
const FIXED = {
  'A <Start Event> is not allowed in <Ad Hoc Sub Process>': 'Ein Startereignis ist in einem Ad-hoc-Teilprozess nicht erlaubt.',
  'An <End Event> is not allowed in <Ad Hoc Sub Process>': 'Ein Endereignis ist in einem Ad-hoc-Teilprozess nicht erlaubt.',
  'Sequence flow is missing condition': 'Dem Sequenzfluss fehlt die Bedingung.',
  'Process is missing end event': 'Dem Prozess fehlt ein Endereignis.',
  'Sub process is missing end event': 'Dem Teilprozess fehlt ein Endereignis.',
  'Process is missing start event': 'Dem Prozess fehlt ein Startereignis.',
  'Sub process is missing start event': 'Dem Teilprozess fehlt ein Startereignis.',
  'An <Event-based Gateway> must have at least 2 outgoing <Sequence Flows>': 'Ein ereignisbasiertes Gateway braucht mindestens zwei ausgehende Sequenzflüsse.',
  'A <Sequence Flow> outgoing from an <Event-based Gateway> must not be conditional': 'Ein Sequenzfluss aus einem ereignisbasierten Gateway darf keine Bedingung haben.',
  'Start event is missing event definition': 'Dem Startereignis fehlt die Ereignisart.',
  'Incoming flows do not join': 'Die eingehenden Flüsse werden nicht zusammengeführt (es fehlt ein Gateway).',
  'Element is missing name': 'Dem Element fehlt ein Name.',
  'Element is unused': 'Das Element wird nicht verwendet.',
  'Element name is not unique': 'Der Name des Elements ist nicht eindeutig.',
  'Element is missing label/name': 'Dem Element fehlt eine Beschriftung.',
  'Link event is missing link name': 'Dem Link-Ereignis fehlt der Link-Name.',
  'Element is missing bpmndi': 'Das Element hat keine Lage im Diagramm (BPMNDI fehlt).',
  'Element is not connected': 'Das Element ist mit keinem anderen verbunden.',
  'SequenceFlow is a duplicate': 'Der Sequenzfluss ist doppelt vorhanden.',
  'Duplicate outgoing sequence flows': 'Doppelte ausgehende Sequenzflüsse.',
  'Duplicate incoming sequence flows': 'Doppelte eingehende Sequenzflüsse.',
  'Gateway forks and joins': 'Das Gateway verzweigt und führt zugleich zusammen.',
  'Flow splits implicitly': 'Der Fluss verzweigt ohne Gateway.',
  'Element is an implicit end': 'Hier endet der Fluss ohne Endereignis.',
  'Element is an implicit start': 'Hier beginnt ein Fluss ohne Startereignis.',
  'Element overlaps with other element': 'Das Element überdeckt ein anderes.',
  'Element is outside of parent boundary': 'Das Element liegt außerhalb seines Rahmens.',
  'Process has multiple blank start events': 'Der Prozess hat mehrere Startereignisse ohne Ereignisart.',
  'Sub process has multiple blank start events': 'Der Teilprozess hat mehrere Startereignisse ohne Ereignisart.',
  'Event has multiple event definitions': 'Das Ereignis hat mehrere Ereignisarten.',
  'Start event must be blank': 'Das Startereignis eines Teilprozesses darf keine Ereignisart haben.',
  'Gateway is superfluous. It only has one source and target.': 'Das Gateway ist überflüssig: Es hat nur einen Eingang und einen Ausgang.',
  'Sequence flow has superfluous label': 'Der Sequenzfluss hat eine überflüssige Beschriftung.',
  'Termination is superfluous.': 'Das Terminierungsereignis ist überflüssig.',
};
const PATTERNS = [
  [/^Link (catch|throw) event with link name <(.*)> missing in scope$/,
    (m) => `Zum Link-Ereignis „${m[2]}“ fehlt das passende ${m[1] === 'catch' ? 'fangende' : 'auslösende'} Link-Ereignis.`],
  [/^Duplicate link catch event with link name <(.*)> in scope$/, (m) => `Das fangende Link-Ereignis „${m[1]}“ gibt es mehrfach.`],
  [/^Link catch event with link name <(.*)> missing in scope$/, (m) => `Zum Link-Ereignis „${m[1]}“ fehlt das fangende Link-Ereignis.`],
  [/^Element type <bpmn:(.*)> is discouraged$/, (m) => `Der Elementtyp ${m[1]} ist bei uns nicht vorgesehen.`],
];

function translate(message) {
  if (FIXED[message]) return FIXED[message];
  for (const [pattern, german] of PATTERNS) {
    const match = pattern.exec(message);
    if (match) return german(match);
  }
  return message;
}

function wrapCheck(check) {
  if (typeof check !== 'function') return check;
  return (node, reporter) => check(node, { report: (id, message, path) => reporter.report(id, translate(message), path) });
}

module.exports = function german(factory) {
  return function (config) {
    const rule = factory(config);
    const check = rule.check;
    const wrapped = typeof check === 'function' ? wrapCheck(check)
      : { enter: wrapCheck(check && check.enter), leave: wrapCheck(check && check.leave) };
    return { ...rule, check: wrapped };
  };
};
module.exports.translate = translate;
