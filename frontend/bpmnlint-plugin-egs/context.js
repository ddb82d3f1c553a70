// What the rules need to know beyond the diagram: the form files (name → { valid, fields }) and names that
// other files of the process write (decision table outputs). The modeller sets it from the server's form list,
// the CLI (frontend/lint-models.mjs) from forms/ and processes/. Until it is set, form existence is not checked.
const vocabulary = require('./vocabulary.json');

const context = { forms: null, extraNames: [] };

function setContext(values) {
  Object.assign(context, values);
}

function getContext() {
  return context;
}

module.exports = { setContext, getContext, vocabulary };
