// bpmnlint's 'event-based-gateway' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/event-based-gateway'));
