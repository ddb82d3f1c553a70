// bpmnlint's 'single-blank-start-event' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/single-blank-start-event'));
