// bpmnlint's 'end-event-required' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/end-event-required'));
