// bpmnlint's 'fake-join' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/fake-join'));
