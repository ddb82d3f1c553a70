// JSON posts of the modeller pages (BPMN modeller, DMN editor): CSRF header, German message when offline.
export async function postJson(url, body, csrf) {
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf },
      body: JSON.stringify(body),
    });
  } catch (error) {
    return { ok: false, status: 0, json: { message: 'Keine Verbindung zum Server.' } };
  }
  let json = {};
  try {
    json = await response.json();
  } catch (error) {
    json = {};
  }
  return { ok: response.ok, status: response.status, json };
}
