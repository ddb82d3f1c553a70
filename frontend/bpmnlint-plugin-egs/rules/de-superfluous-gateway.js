// bpmnlint's 'superfluous-gateway' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/superfluous-gateway'));
