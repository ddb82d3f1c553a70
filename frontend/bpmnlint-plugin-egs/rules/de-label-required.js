// bpmnlint's 'label-required' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/label-required'));
