// bpmnlint's 'no-duplicate-sequence-flows' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/no-duplicate-sequence-flows'));
