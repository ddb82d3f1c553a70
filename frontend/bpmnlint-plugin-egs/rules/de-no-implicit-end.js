// bpmnlint's 'no-implicit-end' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/no-implicit-end'));
