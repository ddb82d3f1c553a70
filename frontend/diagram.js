// The case page's process diagram: bpmn-js viewer, with the case's path marked.
// Data comes from <script type="application/json" id="diagramm-daten"> (no inline script: strict CSP).
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

async function showDiagram(container, data) {
  const viewer = new NavigatedViewer({ container });
  try {
    await viewer.importXML(data.xml);
  } catch (error) {
    container.textContent = 'Das Prozessdiagramm konnte nicht angezeigt werden.';
    return;
  }
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  const mark = (ids, marker) => ids.forEach((id) => registry.get(id) && canvas.addMarker(id, marker));
  mark(data.completed, 'pfad-erledigt');
  mark(data.flows, 'pfad-genommen');
  mark(data.active, 'pfad-aktuell');
  Object.entries(data.markers || {}).forEach(([marker, ids]) => mark(ids, marker)); // the diff page
  canvas.zoom('fit-viewport');
  container.dataset.geladen = 'ja';
}

// The case page has one diagram; the diff page a second one (the live version) in #diagramm-alt.
for (const name of ['diagramm', 'diagramm-alt']) {
  const container = document.getElementById(name);
  const source = document.getElementById(`${name}-daten`);
  if (container && source) {
    showDiagram(container, JSON.parse(source.textContent));
  }
}
