// bpmnlint's 'no-gateway-join-fork' with German messages (../german.js).
module.exports = require('../german')(require('bpmnlint/rules/no-gateway-join-fork'));
