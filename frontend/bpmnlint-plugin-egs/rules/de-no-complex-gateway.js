// bpmnlint's 'no-complex-gateway' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/no-complex-gateway'));
