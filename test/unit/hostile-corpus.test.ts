// A generated corpus of hostile and wrong input, through the real CLI: every string field of the
// schema crossed with every payload no field may carry, every name-like field with injection
// payloads, every number and size with bad values, YAML abuse, and referenced files that are not
// what they claim. Each case must exit 2 naming the field, print no stack trace, write nothing (the
// spec's directory, the spec cache) and call no program (virsh, qemu-img, nix, ssh… are recorded).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { hasCommand } from '../helpers/tools.js';
import { specCachePath } from '../../src/spec/load.js';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostile me@host';
const work = mkdtempSync(join(tmpdir(), 'flakevirt-hostile-'));
const bin = join(work, 'bin');
const calls = join(work, 'calls.log');
const files = join(work, 'files');
const BASE = join(files, 'base.qcow2');

interface Case { name: string; path: string; yaml?: string; bytes?: Buffer }

/** A spec object with `value` set at `path` (dots; "~" in a key stays literal). */
function specWith(path: string[], value: unknown, extra: (s: Record<string, any>) => void = () => {}): Record<string, any> {
  const s: Record<string, any> = { sshKeys: [KEY], guests: { g: { image: BASE } } };
  extra(s);
  let o = s;
  for (const k of path.slice(0, -1)) o = (o[k] ??= /^\d+$/.test(path[path.indexOf(k) + 1] ?? '') ? [] : {});
  o[path.at(-1)!] = value;
  return s;
}
const withStorage = (s: Record<string, any>) => { s.guests.g.storage = { '/mnt/t': { device: '/dev/vdb', size: '16MiB', fsType: 'xfs', autoFormat: true, options: ['noatime'], mkfsArgs: [] } }; delete s.guests.g.storage['/mnt/t'].mkfsArgs; };
const withDisk = (s: Record<string, any>) => { s.guests.g.disks = { '/dev/vdb': { size: '16MiB' } }; };
const withNvme = (s: Record<string, any>) => { s.guests.g.disks = { '/dev/nvme0n1': { size: '64MiB' } }; };
const withHosts = (s: Record<string, any>) => { s.hosts = { h: { connect: 'test:///default', memory: '1GiB' } }; };

// Payloads that no string field may carry, and the fields (with what they need around them).
const EVERYWHERE: Array<[string, string]> = [
  ['newline', 'a\nb'], ['NUL', 'a\u0000b'], ['escape sequence', 'a\u001b[2Jb'], ['U+FFFE', 'a\uFFFEb'], ['lone surrogate', 'a\uD800b'],
  ['Ansible {{', '/x/{{ lookup("pipe","id") }}'], ['Ansible {%', '/x/{% raw %}'], ['5000 characters', `/${'x'.repeat(5000)}`],
];
const STRING_FIELDS: Array<[string, (s: Record<string, any>) => void]> = [
  ['connect', () => {}], ['network', () => {}], ['pool', () => {}], ['nixosFlake', () => {}], ['user', () => {}],
  ['sshKeys.0', () => {}], ['sshKeyFiles.0', () => {}],
  ['guests.g.cmdline', (s) => { s.guests.g.kernel = BASE; }], ['guests.g.image', () => {}], ['guests.g.kernel', () => {}],
  ['guests.g.template', () => {}], ['guests.g.mac', () => {}], ['guests.g.host', () => {}], ['guests.g.groups.0', () => {}],
  ['guests.g.storage./mnt/t.fsType', withStorage], ['guests.g.storage./mnt/t.device', withStorage],
  ['guests.g.storage./mnt/t.options.0', withStorage], ['guests.g.disks./dev/vdb.serial', withDisk],
  ['hosts.h.connect', withHosts], ['hosts.h.jump', withHosts], ['hosts.h.pool', withHosts], ['defaults.template', () => {}],
];
// Injection into fields that name things handed to virsh, ssh, Ansible or the guest.
const INJECTION = ['$(touch /tmp/flakevirt-pwned)', '`id`', 'a b', "it's", 'say "hi"', '--help', '-oProxyCommand=touch%20x', '../x', 'é'];
const NAME_FIELDS: Array<[string, (s: Record<string, any>) => void]> = [
  ['network', () => {}], ['user', () => {}], ['guests.g.groups.0', () => {}], ['guests.g.storage./mnt/t.fsType', withStorage],
  ['guests.g.disks./dev/vdb.serial', withDisk], ['hosts.h.jump', withHosts], ['guests.g.mac', () => {}],
];
const BAD_NUMBERS: unknown[] = [-1, 1.5, '12', Number.POSITIVE_INFINITY, true, 2 ** 60];
const NUMBER_FIELDS: Array<[string, (s: Record<string, any>) => void]> = [
  ['guests.g.vcpus', () => {}], ['defaults.vcpus', () => {}], ['guests.g.disks./dev/vdb.queues', withDisk],
  ['guests.g.disks./dev/nvme0n1.mdts', withNvme], ['guests.g.disks./dev/nvme0n1.atomic.awun', withNvme],
  ['guests.g.disks./dev/vdb.logicalBlockSize', withDisk], ['hosts.h.vcpus', withHosts],
];
const BAD_SIZES = ['1B', '20GB', '-1GiB', '1e3GiB', '', '64PiB'];
const SIZE_FIELDS: Array<[string, (s: Record<string, any>) => void]> = [
  ['guests.g.memory', () => {}], ['defaults.memory', () => {}], ['guests.g.diskSize', () => {}], ['defaults.diskSize', () => {}],
  ['guests.g.disks./dev/vdb.size', withDisk], ['hosts.h.memory', withHosts],
];

function cases(): Case[] {
  const out: Case[] = [];
  const add = (name: string, path: string, spec: Record<string, any>) => out.push({ name, path, yaml: stringify(spec) });
  const split = (p: string) => p.replace('./mnt/t', '.\u0001mnt/t').replace('./dev/vdb', '.\u0001dev/vdb').replace('./dev/nvme0n1', '.\u0001dev/nvme0n1').split('.').map((k) => k.replace('\u0001', '/'));
  for (const [field, extra] of STRING_FIELDS) for (const [what, v] of EVERYWHERE) add(`${field} ← ${what}`, field, specWith(split(field), v, extra));
  for (const [field, extra] of NAME_FIELDS) for (const v of INJECTION) add(`${field} ← ${v}`, field, specWith(split(field), v, extra));
  for (const v of INJECTION) add(`guest name ← ${v}`, 'guests', { sshKeys: [KEY], guests: { [v]: { image: BASE } } });
  for (const v of INJECTION) add(`host name ← ${v}`, 'hosts', { sshKeys: [KEY], hosts: { [v]: { connect: 'test:///default' } }, guests: { g: { image: BASE } } });
  for (const v of ['1', '0042', '6695eb01-f6a4-8304-79aa-97f2502e193f']) add(`guest name ← ${v} (virsh would take it for an id or UUID)`, 'guests', { sshKeys: [KEY], guests: { [v]: { image: BASE } } });
  for (const g of ['_meta', 'all', '__proto__', 'host_h']) add(`group ← ${g}`, 'guests.g.groups.0', specWith(['guests', 'g', 'groups', '0'], g));
  add('mount point ← ~/x', 'guests.g.storage', specWith(['guests', 'g', 'storage'], { '~/x': { device: '/dev/vdb', size: '16MiB', fsType: 'xfs', autoFormat: true } }));
  for (const [field, extra] of NUMBER_FIELDS) for (const v of BAD_NUMBERS) add(`${field} ← ${String(v)}`, field, specWith(split(field), v, extra));
  for (const [field, extra] of SIZE_FIELDS) for (const v of BAD_SIZES) add(`${field} ← "${v}"`, field, specWith(split(field), v, extra));
  // YAML abuse.
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`), 'guests: { g: { image: BASE } }'].join('\n');
  const yamlCases: Array<[string, string]> = [
    ['alias bomb', bomb], ['unknown alias', 'guests: { g: *nowhere }'], ['!!python/object tag', 'guests: { g: !!python/object:os.system { image: BASE } }'],
    ['custom tag', 'guests: !evil { g: { image: BASE } }'], ['__proto__ key', 'guests: { g: { image: BASE, disks: { __proto__: { size: 1GiB } } } }'],
    ['duplicate key', 'guests: { g: { image: BASE } }\nguests: { h: { image: BASE } }'], ['deep nesting', `guests: ${'['.repeat(40)}${']'.repeat(40)}`],
    ['constructor key', 'guests: { g: { image: BASE, constructor: 1 } }'], ['not a mapping', '- just\n- a list'],
  ];
  for (const [what, y] of yamlCases) out.push({ name: `YAML: ${what}`, path: '', yaml: `sshKeys: ["${KEY}"]\n${y.replaceAll('BASE', BASE)}\n` });
  out.push({ name: 'YAML: many keys', path: '', yaml: `sshKeys: ["${KEY}"]\nguests: { g: { image: ${BASE} } }\nx: {${Array.from({ length: 60_000 }, (_, i) => `k${i}: 1`).join(', ')}}\n` });
  out.push({ name: 'YAML: over 1 MiB', path: '', yaml: `sshKeys: ["${KEY}"]\n# ${'x'.repeat(1_100_000)}\nguests: { g: { image: ${BASE} } }\n` });
  out.push({ name: 'invalid UTF-8', path: '', bytes: Buffer.concat([Buffer.from(`sshKeys: ["${KEY}"]\nguests: { g: { image: ${BASE}, cmdline: "`), Buffer.from([0xc3, 0x28]), Buffer.from('" } }\n')]) });
  // Referenced files that are not what they claim.
  const notes: Array<[string, string, string]> = [
    ['image', 'dir', join(files, 'dir')], ['image', 'FIFO', join(files, 'fifo')], ['image', 'text file', join(files, 'text')],
    ['image', 'symlink to /etc/passwd', join(files, 'passwd-link')], ['image', 'qcow2 with a backing file', join(files, 'backed.qcow2')],
    ['kernel', 'FIFO', join(files, 'fifo')], ['kernel', 'dir', join(files, 'dir')], ['template', 'dir', join(files, 'dir')], ['template', '/etc/passwd', '/etc/passwd'],
  ];
  for (const [field, what, p] of notes) add(`${field} ← ${what}`, `guests.g.${field}`, specWith(['guests', 'g', field], p));
  add('defaults.template ← a relative path', 'defaults.template', specWith(['defaults', 'template'], 'my.xml'));
  return out;
}

function run(dir: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'up', '-f', join(dir, 'flakevirt.yaml'), '--timeout', '5'], {
      cwd: dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, LIBVIRT_DEFAULT_URI: 'test:///default', HOME: dir },
    });
    let stderr = '';
    const killer = setTimeout(() => p.kill('SIGKILL'), 20_000); // a hang is a failure, not a stuck suite
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdout.resume();
    // 'close', not 'exit': the child's last stderr can arrive after its exit event (seen in CI under load).
    p.on('close', (status) => { clearTimeout(killer); resolve({ status, stderr }); });
  });
}

const skip = hasCommand('qemu-img') ? undefined : 'qemu-img is needed to make the corpus\'s image files';
if (skip) process.stderr.write(`skipped: ${skip}\n`);
describe.skipIf(skip)('the generated hostile corpus through the CLI', () => {
  beforeAll(() => {
    mkdirSync(bin);
    for (const p of ['virsh', 'qemu-img', 'nix', 'nix-store', 'ssh', 'ssh-keygen', 'bash', 'ansible', 'mkfs']) {
      writeFileSync(join(bin, p), `#!/bin/sh\necho "${p} $*" >> '${calls}'\nexit 1\n`);
      chmodSync(join(bin, p), 0o755);
    }
    mkdirSync(join(files, 'dir'), { recursive: true });
    execFileSync('mkfifo', [join(files, 'fifo')]);
    writeFileSync(join(files, 'text'), 'not an image\n');
    symlinkSync('/etc/passwd', join(files, 'passwd-link'));
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', BASE, '16M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', BASE, '-F', 'qcow2', join(files, 'backed.qcow2')]);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('refuses every case with exit 2, the field named, no stack trace, nothing written, no program called', async () => {
    const all = cases();
    expect(all.length).toBeGreaterThanOrEqual(200);
    const failures: string[] = [];
    const queue = all.map((c, i) => ({ c, i }));
    await Promise.all([1, 2, 3, 4].map(async () => {
      for (let q = queue.shift(); q; q = queue.shift()) {
        const { c, i } = q;
        const dir = join(work, `case-${i}`);
        mkdirSync(dir);
        const spec = join(dir, 'flakevirt.yaml');
        writeFileSync(spec, c.bytes ?? c.yaml!);
        const r = await run(dir);
        const why: string[] = [];
        if (r.status !== 2) why.push(`exit ${r.status}`);
        if (c.path && !r.stderr.includes(c.path)) why.push(`no "${c.path}" in the message`);
        if (/This is a bug|\n\s+at .*\.c?js:\d+/.test(r.stderr)) why.push('stack trace');
        const left = readdirSync(dir).filter((f) => f !== 'flakevirt.yaml');
        if (left.length) why.push(`wrote ${left.join(', ')}`);
        if (existsSync(specCachePath(spec))) why.push('wrote a spec cache entry');
        if (why.length) failures.push(`${c.name}: ${why.join('; ')}\n${r.stderr.slice(0, 600)}`);
      }
    }));
    const called = existsSync(calls) ? readFileSync(calls, 'utf8') : '';
    expect(failures).toEqual([]);
    expect(called).toBe('');
    process.stderr.write(`hostile corpus: ${all.length} cases refused\n`);
  }, 600_000);
});
