// bpmnlint's 'no-bpmndi' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/no-bpmndi'));
