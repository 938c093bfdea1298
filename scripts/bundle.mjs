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

/**
 * yargs looks for the application's package.json (its default `version`) from the directory above
 * the `node_modules` its shim sits in; inside the bundle there is none, so it walked up from the
 * user's working directory instead, listing every directory on the way (~5 ms in a full one) and
 * reading whatever package.json it met. It starts at flakevirt's own package root instead.
 */
const yargsShimRoot = {
  name: 'yargs-shim-root',
  setup(b) {
    b.onLoad({ filter: /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const { readFile } = await import('node:fs/promises');
      const text = await readFile(args.path, 'utf8');
      const from = "const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));";
      if (!text.includes(from)) throw new Error(`bundle: yargs' shim changed (${args.path}); update the yargs-shim-root plugin`);
      return { contents: text.replace(from, "const mainFilename = fileURLToPath(new URL('..', import.meta.url));"), loader: 'js' };
    });
  },
};

/**
 * zod's namespace export carries every one of its 64 translations of its own error messages
 * (`z.locales`), which a bundle cannot leave out once `z` is used as an object: about half of the
 * zod chunk that a changed spec loads and compiles. flakevirt words its own messages and never
 * reads `z.locales`; the index keeps only English, the one zod itself configures.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: 'export { default as en } from "./en.js";', loader: 'js' }));
  },
};

await build({
  plugins: [lazyStringWidth, yargsShimRoot, zodEnglishOnly],
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
