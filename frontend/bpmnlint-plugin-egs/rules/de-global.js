// bpmnlint's 'global' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/global'));
