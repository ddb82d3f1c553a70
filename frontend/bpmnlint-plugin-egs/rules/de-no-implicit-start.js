// bpmnlint's 'no-implicit-start' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/no-implicit-start'));
