// bpmnlint's 'link-event' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/link-event'));
