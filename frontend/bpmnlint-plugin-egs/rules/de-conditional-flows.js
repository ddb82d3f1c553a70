// bpmnlint's 'conditional-flows' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/conditional-flows'));
