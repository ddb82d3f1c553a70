// bpmnlint's 'ad-hoc-sub-process' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/ad-hoc-sub-process'));
