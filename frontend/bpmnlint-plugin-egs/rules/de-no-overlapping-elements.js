// bpmnlint's 'no-overlapping-elements' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/no-overlapping-elements'));
