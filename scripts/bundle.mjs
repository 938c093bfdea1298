// Bundles the CLI after tsc: dist/cli.js and the chunks the commands load lazily become a few
// files next to it (dist/chunk-*.js), with the npm dependencies inside. Node then resolves and
// compiles a handful of modules instead of ~150: yargs imports in 50 ms instead of 105, the XML
// parser in 14 instead of 49 (measured on this machine, bench/run.mjs has the whole-command figures).
// The libvirt binding stays outside (a native addon, loaded from node_modules). The rest of dist/
// (tsc's module tree) stays for the benchmarks and `npm run schema`.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
// Chunks of an earlier build would otherwise stay (and count in dist/build-id).
for (const f of readdirSync(join(root, 'dist'))) if (/^chunk-[A-Z0-9]+\.js$/.test(f)) rmSync(join(root, 'dist', f));
/**
 * string-width (yargs and log-update lay text out with it) builds an Intl.Segmenter and Unicode
 * property expressions when it is imported: 20-45 ms of every command, although only --help and
 * the live progress view ever measure text. Imports of it get a stand-in that loads the real module
 * at its first call (a require() of an ES module, which esbuild evaluates lazily).
 */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, () => ({ path: 'string-width', namespace: 'lazy-string-width' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, () => ({
      contents: `export default function stringWidth(text, options) { return require(${JSON.stringify(join(root, 'node_modules', 'string-width', 'index.js'))}).default(text, options); }`,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

await build({
  plugins: [lazyStringWidth],
  entryPoints: { cli: join(root, 'src', 'cli.ts') },
  outdir: join(root, 'dist'),
  // Chunks next to cli.js: package-root.ts finds the package one directory above its own file.
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@unraid/libvirt'],
  // CommonJS dependencies inside an ES module bundle call require() for Node's own modules.
  banner: { js: "import { createRequire as __flakevirtRequire } from 'node:module'; const require = __flakevirtRequire(import.meta.url);" },
  logLevel: 'warning',
  allowOverwrite: true,
});
