// bpmnlint's 'sub-process-blank-start-event' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/sub-process-blank-start-event'));
