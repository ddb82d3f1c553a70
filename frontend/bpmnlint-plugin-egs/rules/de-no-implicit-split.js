// bpmnlint's 'no-implicit-split' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/no-implicit-split'));
