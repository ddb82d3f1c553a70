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
  entryPoints: { app: 'frontend/app.js' },
  format: 'iife',
  outdir: 'webapp/static/dist',
});
