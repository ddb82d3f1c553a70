// bpmnlint's 'superfluous-termination' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/superfluous-termination'));
