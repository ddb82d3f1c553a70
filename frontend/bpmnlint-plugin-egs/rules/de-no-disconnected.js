// bpmnlint's 'no-disconnected' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/no-disconnected'));
