// Bundles the CLI after tsc: src/cli.ts and every module it loads, the npm dependencies included,
// become one CommonJS file, dist/flakevirt.cjs, which the bin (dist/cli.js, written here) compiles
// with a code cache (src/launch.ts, scripts/code-cache.mjs). Node then reads one file instead of
// resolving and compiling ~150 modules: yargs imports in 50 ms instead of 105, the XML parser in 14
// instead of 49 (measured on this machine, bench/run.mjs has the whole-command figures). What a
// command does not run is still not evaluated: esbuild turns the commands' import() into lazily
// initialised modules. The libvirt binding stays outside (a native addon, loaded from
// node_modules). The rest of dist/ (tsc's module tree) stays for the benchmarks and `npm run schema`.
import { build } from 'esbuild';
import { chmodSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
// Chunks of an earlier (ES module, split) build would otherwise stay (and count in dist/build-id).
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
  entryPoints: [join(root, 'src', 'cli.ts')],
  outfile: join(root, 'dist', 'flakevirt.cjs'),
  bundle: true,
  // One CommonJS file, which src/launch.ts compiles with V8's code cache (scripts/code-cache.mjs):
  // Node's ES module loader has no way to hand V8 a cache (Node 22's module.enableCompileCache
  // has, Node 20 has not).
  format: 'cjs',
  minifyWhitespace: true,
  minifySyntax: true,
  // A script compiled by node:vm has no import() without --experimental-vm-modules: the commands'
  // modules are inside anyway, and the libvirt binding (an ES module) is require()d, which Node
  // does from 20.19 on (package.json engines).
  supported: { 'dynamic-import': false },
  platform: 'node',
  target: 'node20',
  external: ['@unraid/libvirt'],
  // import.meta in a CommonJS file: the launcher passes these two in (src/launch.ts, WRAPPER).
  define: { 'import.meta.url': '__flakevirtUrl', 'import.meta.resolve': '__flakevirtResolve', 'import.meta.dirname': '__dirname' },
  logLevel: 'warning',
  allowOverwrite: true,
});

// The bin. Its shebang starts Node without NODE_EXTRA_CA_CERTS: Node 20 with OpenSSL 3 reads that
// bundle (and its own roots) before any JavaScript runs (nodejs/node#40524), 90 ms of every command
// on a machine that sets it, and flakevirt never makes a TLS connection. Children (nix, ssh, virsh)
// never read it. The bundle's import.meta.resolve is this file's: both sit in dist/.
writeFileSync(join(root, 'dist', 'cli.js'), `#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node
// flakevirt's bin: the CLI bundle (flakevirt.cjs), compiled with its code cache (src/launch.ts).
import { launch } from './launch.js';
launch(import.meta.url, import.meta.resolve);
`);
chmodSync(join(root, 'dist', 'cli.js'), 0o755);
