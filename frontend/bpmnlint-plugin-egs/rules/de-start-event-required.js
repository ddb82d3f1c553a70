// bpmnlint's 'start-event-required' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/start-event-required'));
