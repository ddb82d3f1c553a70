// bpmnlint's 'event-sub-process-typed-start-event' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/event-sub-process-typed-start-event'));
