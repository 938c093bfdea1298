// Makes dist/flakevirt.cjs.cache, the V8 code cache the bin compiles the CLI bundle with
// (src/launch.ts), at build time: it runs the everyday commands (help, validate, plan, up --dry-run,
// list, ips, inventory --list, render, disks, ssh-config) against libvirt's test driver, each in its
// own process that starts from the previous one's cache and adds what it compiled, so the cache holds
// the functions those commands run and not only the bundle's top level. A command flakevirt never
// trained still runs, compiling what the cache lacks as it would without one.
//
// The commands run in a temporary directory and keep their state there: they see a non-root uid
// (flakevirt's state directories for root are /var/cache/flakevirt and /run/flakevirt, which a
// build must not touch) and HOME, XDG_CACHE_HOME and XDG_RUNTIME_DIR inside it.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const dist = join(root, 'dist');
const launch = await import(pathToFileURL(join(dist, 'launch.js')).href);
const bundle = join(dist, launch.BUNDLE);

if (process.argv[2] === '--child') {
  // --child CACHE-IN|'' CACHE-OUT ARGS…: one command, its cache written when the process exits.
  const [, , , from, to, ...args] = process.argv;
  const compiled = launch.compileBundle(bundle, from ? readFileSync(from) : undefined);
  if (from && compiled.rejected !== false) throw new Error(`code-cache: V8 did not take the cache of the previous command (${compiled.rejected ? 'rejected' : 'not this bundle'})`);
  process.getuid = () => 65534;
  process.argv = [process.argv[0], join(dist, 'cli.js'), ...args];
  process.on('exit', () => writeFileSync(to, launch.cacheFileData(compiled)));
  launch.runBundle(compiled, bundle, import.meta.resolve);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'flakevirt-code-cache-'));
  try {
    for (const d of ['home', 'cache', 'run']) mkdirSync(join(dir, d), { mode: 0o700 });
    writeFileSync(join(dir, 'flakevirt.yaml'), [
      'hosts: { local: { connect: "test:///default", memory: 8GiB } }',
      `pool: ${join(dir, 'pool')}`,
      'sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGolden build@code-cache"]',
      'defaults: { memory: 1GiB, vcpus: 2, diskSize: 4GiB }',
      'guests:',
      '  g1:',
      '    groups: [fstests]',
      '    storage:',
      '      /mnt/test: { device: /dev/nvme0n1, size: 4GiB, fsType: xfs, logicalBlockSize: 4096, autoFormat: true }',
      '    disks:',
      '      /dev/vdb: { size: 1GiB }',
      '',
    ].join('\n'));
    const env = { ...process.env, HOME: join(dir, 'home'), XDG_CACHE_HOME: join(dir, 'cache'), XDG_RUNTIME_DIR: join(dir, 'run'), FLAKEVIRT_HASH_CACHE: join(dir, 'cache', 'content-ids.json') };
    delete env.LIBVIRT_DEFAULT_URI;
    delete env.NODE_EXTRA_CA_CERTS;
    // validate first: it loads and checks the spec; the commands after it take the checked spec from its cache.
    const commands = [['--version'], ['--help'], ['validate'], ['plan'], ['up', '--dry-run'], ['list'], ['ips'], ['inventory', '--list'], ['render', 'g1'], ['disks'], ['ssh-config'], ['validate']];
    let cache = '';
    const started = Date.now();
    for (const [i, args] of commands.entries()) {
      const out = join(dir, `cache-${i}`);
      const r = spawnSync(process.execPath, [join(root, 'scripts', 'code-cache.mjs'), '--child', cache, out, ...args], { cwd: dir, env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`code-cache: flakevirt ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}`);
      cache = out;
    }
    // Copied next to the target, then renamed over it (the temporary directory may be on another
    // file system); 0644 whatever the umask, since the bin uses no cache group or others can write.
    const target = join(dist, launch.CODE_CACHE);
    const next = `${target}.new-${process.pid}`;
    copyFileSync(cache, next);
    chmodSync(next, 0o644);
    renameSync(next, target);
    process.stdout.write(`code-cache: ${target}, ${Math.round(readFileSync(target).length / 1024)} KiB from ${commands.length} commands in ${Date.now() - started} ms\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
