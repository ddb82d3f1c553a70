// bpmnlint's 'single-event-definition' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/single-event-definition'));
