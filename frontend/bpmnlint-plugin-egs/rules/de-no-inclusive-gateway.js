// bpmnlint's 'no-inclusive-gateway' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/no-inclusive-gateway'));
