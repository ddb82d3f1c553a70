// Token simulation in the modeller (bpmn-js-token-simulation), under our CSP: the build turns the library's inline
// style attributes into data-egs-style (frontend/build.mjs); they are applied here through the CSSOM, which
// style-src 'self' allows. The library's own toggle (an English, mouse-only div) is hidden by CSS; a real button
// of the page switches the mode and says whether it is on (aria-pressed).
import TokenSimulationModule from 'bpmn-js-token-simulation';

export { TokenSimulationModule };

function applyStyle(element) {
  const text = element.getAttribute('data-egs-style');
  element.removeAttribute('data-egs-style');
  for (const declaration of text.split(';')) {
    const colon = declaration.indexOf(':');
    if (colon > 0) element.style.setProperty(declaration.slice(0, colon).trim(), declaration.slice(colon + 1).trim());
  }
}

function applyStyles(root) {
  if (root.nodeType !== 1) return;
  if (root.hasAttribute('data-egs-style')) applyStyle(root);
  root.querySelectorAll('[data-egs-style]').forEach(applyStyle);
}

// Switch the simulation with ``button``; ``onChange(active)`` hears every switch (also by keyboard shortcut).
export function bindSimulation(modeler, container, button, onChange) {
  new MutationObserver((changes) => {
    for (const change of changes) change.addedNodes.forEach(applyStyles);
  }).observe(container, { childList: true, subtree: true });
  const toggle = modeler.get('toggleMode');
  button.hidden = false;
  button.addEventListener('click', () => toggle.toggleMode());
  modeler.get('eventBus').on('tokenSimulation.toggleMode', ({ active }) => {
    button.setAttribute('aria-pressed', String(active));
    button.textContent = active ? 'Token-Simulation beenden' : 'Token-Simulation';
    onChange(active);
  });
}
