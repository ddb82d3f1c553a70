// bpmnlint's 'superfluous-label' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/superfluous-label'));
