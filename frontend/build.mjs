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

await esbuild.build({
  ...common,
  entryPoints: { modeller: 'frontend/modeller.js' },
  format: 'iife',
  outdir: 'webapp/static/dist',
  plugins: [panelWithoutInlineStyles, bpmnlintConfig],
});

await esbuild.build({
  ...common,
  entryPoints: { diagram: 'frontend/diagram.css', modeller: 'frontend/modeller.css' },
  outdir: 'webapp/static/dist',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
});
