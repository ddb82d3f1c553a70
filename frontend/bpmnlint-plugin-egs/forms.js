// What the lint needs of a form file: is it a usable JSON Schema (the cheap part of engine/forms.check_schema;
// the server checks the rest at deploy), and which fields does it have (names scripts may read).
function formInfo(schema) {
  const valid = Boolean(schema) && typeof schema === 'object' && !Array.isArray(schema) && schema.type === 'object'
    && Boolean(schema.properties) && typeof schema.properties === 'object' && !Array.isArray(schema.properties);
  return { valid, fields: valid ? Object.keys(schema.properties) : [] };
}

module.exports = { formInfo };
