// Bundle the front-end from node_modules into webapp/static/dist (offline, no CDN).
import * as esbuild from 'esbuild';

const common = {
  bundle: true,
  minify: true,
  target: 'es2020',
  logLevel: 'warning',
  legalComments: 'linked',
};

await esbuild.build({
  ...common,
  entryPoints: { app: 'frontend/app.js', diagram: 'frontend/diagram.js', modeller: 'frontend/modeller.js' },
  format: 'iife',
  outdir: 'webapp/static/dist',
});

await esbuild.build({
  ...common,
  entryPoints: { diagram: 'frontend/diagram.css', modeller: 'frontend/modeller.css' },
  outdir: 'webapp/static/dist',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
});
