// The process diagram (bpmn-js viewer): on the case page with the case's path marked, on the audit
// function's process view as a heat map (how often each step ran: colour level and a count at the step), on
// the modeller's diff page with the changed elements marked.
// Data comes from <script type="application/json" id="diagramm-daten"> (no inline script: strict CSP).
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

function markPath(canvas, registry, data) {
  const mark = (ids, marker) => (ids || []).forEach((id) => registry.get(id) && canvas.addMarker(id, marker));
  mark(data.completed, 'pfad-erledigt');
  mark(data.flows, 'pfad-genommen');
  mark(data.active, 'pfad-aktuell');
  Object.entries(data.markers || {}).forEach(([marker, ids]) => mark(ids, marker)); // the diff page
}

function markHeat(canvas, registry, overlays, heat) {
  Object.entries(heat).forEach(([id, figures]) => {
    if (!registry.get(id)) return;
    canvas.addMarker(id, `hitze-${figures.level}`);
    const badge = document.createElement('span');
    badge.className = 'hitze-zahl';
    badge.textContent = String(figures.runs);
    badge.title = `${figures.runs} Durchläufe`;
    overlays.add(id, 'hitze', { position: { top: -12, right: 12 }, html: badge });
  });
}

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
  if (data.heat) {
    markHeat(canvas, registry, viewer.get('overlays'), data.heat);
  } else {
    markPath(canvas, registry, data);
  }
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
