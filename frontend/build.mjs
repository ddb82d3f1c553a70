// Bundle the front-end from node_modules into webapp/static/dist (offline, no CDN).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as esbuild from 'esbuild';

const require = createRequire(import.meta.url);

const common = {
  bundle: true,
  minify: true,
  target: 'es2020',
  logLevel: 'warning',
  legalComments: 'linked',
};

// The properties panel writes two inline style attributes into its markup, which our CSP (style-src 'self')
// blocks with a console error; frontend/modeller.css states the same rules. Strip them at build time, and
// fail the build if a new panel version no longer has them (then check the CSS still matches).
const PANEL_INLINE_STYLES = ['style="height: 100%" ', 'style="flex: none; height: auto" '];
const panelWithoutInlineStyles = {
  name: 'panel-without-inline-styles',
  setup(build) {
    build.onLoad({ filter: /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/ }, async (args) => {
      let contents = await readFile(args.path, 'utf8');
      for (const style of PANEL_INLINE_STYLES) {
        if (!contents.includes(style)) throw new Error(`bpmn-js-properties-panel: ${style} not found`);
        contents = contents.replaceAll(style, '');
      }
      return { contents, loader: 'js' };
    });
  },
};

// `import config from '../.bpmnlintrc'` in the modeller: bpmnlint's own compiler turns the rule configuration
// into a module that imports every rule (our plugin's and bpmnlint's), which esbuild then bundles. The same
// .bpmnlintrc drives the CLI run over processes/ (npm run lint:models).
const bpmnlintConfig = {
  name: 'bpmnlintrc',
  setup(build) {
    build.onLoad({ filter: /\.bpmnlintrc$/ }, async (args) => {
      const compileConfig = require('bpmnlint/lib/support/compile-config');
      const { moddleExtensions, ...config } = JSON.parse(await readFile(args.path, 'utf8'));
      return { contents: await compileConfig(config), loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

await esbuild.build({
  ...common,
  entryPoints: { app: 'frontend/app.js', diagram: 'frontend/diagram.js' },
  format: 'iife',
  outdir: 'webapp/static/dist',
});

// bpmn-js-token-simulation writes scope colours as inline style attributes into its markup (CSP: blocked).
// They become data-egs-style attributes, which frontend/modeller-simulation.js applies through the CSSOM (allowed
// by style-src 'self'); its English button titles become German. A missing text fails the build (check on updates).
const SIMULATION_TEXTS = {
  'features/context-pads/handler/ExclusiveGatewayHandler.js': [['title="Set Sequence Flow"', 'title="Ausgehenden Fluss wählen"']],
  'features/context-pads/handler/InclusiveGatewayHandler.js': [['title="Set Sequence Flow"', 'title="Ausgehende Flüsse wählen"']],
  'features/context-pads/handler/PauseHandler.js': [["title=\"${ wait ? 'Remove' : 'Add' } pause point\"", "title=\"${ wait ? 'Haltepunkt entfernen' : 'Haltepunkt setzen' }\""]],
  'features/context-pads/handler/TriggerHandler.js': [['title="Trigger Event"', 'title="Ereignis auslösen"']],
  'features/log/Log.js': [['title="Toggle Simulation Log"', 'title="Protokoll der Simulation ein- oder ausblenden"'], ['style="', 'data-egs-style="']],
  'features/pause-simulation/PauseSimulation.js': [['title="Play/Pause Simulation"', 'title="Simulation starten oder anhalten"']],
  'features/reset-simulation/ResetSimulation.js': [['title="Reset Simulation"', 'title="Simulation zurücksetzen"']],
  'features/set-animation-speed/SetAnimationSpeed.js': [['title="Set animation speed = ${ label }"', 'title="Geschwindigkeit ${ label }"']],
  'features/show-scopes/ShowScopes.js': [['title="Focus process instance ${scope.id}"', 'title="Instanz ${scope.id} hervorheben"'], ['style="', 'data-egs-style="']],
  'features/notifications/Notifications.js': [['style="', 'data-egs-style="']],
  'features/token-count/TokenCount.js': [['style="', 'data-egs-style="']],
  'features/element-notifications/ElementNotifications.js': [['style="', 'data-egs-style="']],
};
const simulationForOurCsp = {
  name: 'simulation-for-our-csp',
  setup(build) {
    build.onLoad({ filter: /bpmn-js-token-simulation[\\/]lib[\\/].*\.js$/ }, async (args) => {
      const file = args.path.replaceAll('\\', '/').split('bpmn-js-token-simulation/lib/')[1];
      let contents = await readFile(args.path, 'utf8');
      for (const [from, to] of SIMULATION_TEXTS[file] || []) {
        if (!contents.includes(from)) throw new Error(`bpmn-js-token-simulation ${file}: ${from} not found`);
        contents = contents.replaceAll(from, to);
      }
      if (/(?<![-\w])style="/.test(contents)) throw new Error(`bpmn-js-token-simulation ${file}: new inline style`);
      return { contents, loader: 'js', resolveDir: args.path.replace(/[\\/][^\\/]*$/, '') };
    });
  },
};

await esbuild.build({
  ...common,
  entryPoints: { modeller: 'frontend/modeller.js' },
  format: 'iife',
  outdir: 'webapp/static/dist',
  plugins: [panelWithoutInlineStyles, bpmnlintConfig, simulationForOurCsp],
});

// dmn-js writes the bpmn.io logo, its lightbox and a drag image with inline style attributes (CSP: blocked, a
// console error each). They are stripped here and stated in frontend/dmn-editor.css; the logo stays as it is
// (bpmn.io licence). A text no longer found fails the build (check the CSS on updates).
const DMN_REWRITES = {
  'dmn-js-shared/lib/util/PoweredByUtil.js': [
    [' style="vertical-align:middle"', ''],
    [`'style="position: absolute; bottom: 15px; right: 15px; z-index: 100;">'`, "'>'"],
    [`'<div class="bjs-powered-by-lightbox" style="' + LIGHTBOX_STYLES + '">'`, `'<div class="bjs-powered-by-lightbox">'`],
    [`'<div class="backdrop" style="' + BACKDROP_STYLES + '"></div>'`, `'<div class="backdrop"></div>'`],
    [`'<div class="notice" style="' + NOTICE_STYLES + '">'`, `'<div class="notice">'`],
    [`rel="noopener" style="margin: 15px 20px 15px 10px; align-self: center;' + '">'`, `rel="noopener">'`],
  ],
  'dmn-js-decision-table/lib/features/drag-and-drop/DragAndDrop.js': [
    [`domify(\`<span style="
          visibility: hidden;
          position: fixed;
          top: -10000px
      "></span>\`)`, `domify('<span class="egs-drag-image"></span>')`],
  ],
};
// Our cells are Python (SpiffWorkflow), not FEEL: the boolean cell editor ("Ja"/"Nein") writes True/False.
DMN_REWRITES['dmn-js-decision-table/lib/features/simple-boolean-edit/components/BooleanEdit.js'] = [
  ["const TRUE = 'true',\n  FALSE = 'false',", "const TRUE = 'True',\n  FALSE = 'False',"],
];
DMN_REWRITES['dmn-js-decision-table/lib/features/simple-boolean-edit/Utils.js'] = [
  ["'true'", "'True'"],
  ["'false'", "'False'"],
];
const dmnRewrites = {
  name: 'dmn-rewrites',
  setup(build) {
    build.onLoad({ filter: /(PoweredByUtil|DragAndDrop|BooleanEdit|simple-boolean-edit[\\/]Utils)\.js$/ }, async (args) => {
      const file = Object.keys(DMN_REWRITES).find((name) => args.path.replaceAll('\\', '/').endsWith(`node_modules/${name}`));
      if (!file) return undefined;
      let contents = await readFile(args.path, 'utf8');
      for (const [from, to] of DMN_REWRITES[file]) {
        if (!contents.includes(from)) throw new Error(`${file}: ${from} not found`);
        contents = contents.replaceAll(from, to);
      }
      if (/style="/.test(contents)) throw new Error(`${file}: new inline style`);
      return { contents, loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

// The DMN editor (dmn-js) is a bundle of its own, loaded only on its page.
await esbuild.build({
  ...common,
  entryPoints: { 'dmn-editor': 'frontend/dmn-editor.js' },
  format: 'iife',
  outdir: 'webapp/static/dist',
  plugins: [dmnRewrites],
});

await esbuild.build({
  ...common,
  entryPoints: { diagram: 'frontend/diagram.css', modeller: 'frontend/modeller.css', 'dmn-editor': 'frontend/dmn-editor.css' },
  outdir: 'webapp/static/dist',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
});
