// The adapters are tested by the argv they pass: virsh, qemu-img and nix are replaced on PATH by
// recorders that log their arguments (and answer what the adapter expects), so each assertion is
// exactly what flakevirt hands the real program.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'flakevirt-argv-'));
const log = join(dir, 'calls.log');
const savedPath = process.env.PATH;
/** Each recorder logs "prog arg1 arg2 …" (one argument per tab) and prints what is in $dir/prog.out. */
function recorder(prog: string, out = ''): void {
  writeFileSync(join(dir, `${prog}.out`), out);
  writeFileSync(join(dir, prog), `#!/bin/sh\n{ printf '%s' "${prog}"; for a; do printf '\\t%s' "$a"; done; echo; } >> '${log}'\ncat '${join(dir, `${prog}.out`)}'\n`);
  chmodSync(join(dir, prog), 0o755);
}
function calls(): string[][] {
  const text = (() => { try { return readFileSync(log, 'utf8'); } catch { return ''; } })();
  rmSync(log, { force: true });
  return text.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

beforeAll(() => {
  recorder('virsh', 'Name: default\nActive: yes\nBridge: virbr0\n');
  recorder('qemu-img', JSON.stringify({ format: 'qcow2', 'virtual-size': 1 << 30 }));
  recorder('nix', '/nix/store/00000000000000000000000000000000-nixos-disk-image.drv');
  process.env.PATH = `${dir}:${savedPath}`;
});
afterAll(() => { process.env.PATH = savedPath; rmSync(dir, { recursive: true, force: true }); });

describe('argv handed to the programs', () => {
  it('virsh: the URI, then the subcommand and its operands, never an option-looking operand', async () => {
    const { Virsh } = await import('../../src/adapters/virsh.js');
    const v = new Virsh('qemu:///system');
    expect(await v.networkInfo('default')).toEqual({ exists: true, active: true, bridge: 'virbr0' });
    await v.setLiveMetadata('g1', 'http://flakevirt.dev/xmlns/boot/1', 'fvboot', '<boot started="1" before=""/>');
    await v.poolBuild('flakevirt');
    await v.version();
    await v.poolAvailable('flakevirt');
    // A console log's new part (kernel health on a remote host): from the offset on, only then.
    await v.volDownload('flakevirt', 'g1-console.log', '/tmp/x', 4096);
    await v.volDownload('flakevirt', 'g1-console.log', '/tmp/x');
    expect(calls()).toEqual([
      ['virsh', '-q', '-c', 'qemu:///system', 'net-info', 'default'],
      ['virsh', '-q', '-c', 'qemu:///system', 'metadata', '--domain', 'g1', '--uri', 'http://flakevirt.dev/xmlns/boot/1', '--key', 'fvboot', '--set', '<boot started="1" before=""/>', '--live'],
      ['virsh', '-q', '-c', 'qemu:///system', 'pool-build', 'flakevirt'],
      ['virsh', '-q', '-c', 'qemu:///system', 'version', '--daemon'],
      ['virsh', '-q', '-c', 'qemu:///system', 'pool-info', '--bytes', 'flakevirt'],
      ['virsh', '-q', '-c', 'qemu:///system', 'vol-download', '--pool', 'flakevirt', '--offset', '4096', 'g1-console.log', '/tmp/x'],
      ['virsh', '-q', '-c', 'qemu:///system', 'vol-download', '--pool', 'flakevirt', 'g1-console.log', '/tmp/x'],
    ]);
    await expect(v.networkInfo('--help')).rejects.toThrow(/cannot be a virsh operand/);
    expect(calls()).toEqual([]);
  });

  it('virsh for checkpoints: metadata in both definitions, monitor commands built from our tags only', async () => {
    const { Virsh } = await import('../../src/adapters/virsh.js');
    const v = new Virsh('qemu:///system');
    await v.setMetadata('g1', 'http://flakevirt.dev/xmlns/checkpoints/1', 'fvckpt', '<checkpoints/>', { live: true });
    await v.setMetadata('g1', 'http://flakevirt.dev/xmlns/checkpoints/1', 'fvckpt', undefined, { live: false });
    await v.monitor('g1', { op: 'savevm', tag: 'fv-default-abc' }, 'x');
    await v.monitor('g1', { op: 'info snapshots' }, 'x');
    await v.startPaused('g1');
    await v.resume('g1');
    expect(calls()).toEqual([
      ['virsh', '-q', '-c', 'qemu:///system', 'metadata', '--domain', 'g1', '--uri', 'http://flakevirt.dev/xmlns/checkpoints/1', '--key', 'fvckpt', '--set', '<checkpoints/>', '--config', '--live'],
      ['virsh', '-q', '-c', 'qemu:///system', 'metadata', '--domain', 'g1', '--uri', 'http://flakevirt.dev/xmlns/checkpoints/1', '--remove', '--config'],
      ['virsh', '-q', '-c', 'qemu:///system', 'qemu-monitor-command', '--hmp', 'g1', 'savevm fv-default-abc'],
      ['virsh', '-q', '-c', 'qemu:///system', 'qemu-monitor-command', '--hmp', 'g1', 'info snapshots'],
      ['virsh', '-q', '-c', 'qemu:///system', 'start', '--paused', 'g1'],
      ['virsh', '-q', '-c', 'qemu:///system', 'resume', 'g1'],
    ]);
    // A tag that is not flakevirt's never reaches the monitor (it could carry a second command).
    for (const tag of ['fv-a; quit', 'x', 'fv-A', 'fv-a\nquit', '']) expect(() => v.monitor('g1', { op: 'loadvm', tag }, 'x')).toThrow(/not a flakevirt snapshot tag/);
    expect(calls()).toEqual([]);
  });

  it('qemu-img: the overlay records its backing file and format, -U for reading a base in use', async () => {
    const { createOverlay, imageInfo } = await import('../../src/adapters/disks.js');
    const base = '/nix/store/x-nixos-disk-image/nixos.qcow2';
    expect(await imageInfo(base)).toEqual({ format: 'qcow2', virtualSize: 1 << 30 });
    const target = join(dir, 'root.qcow2');
    await createOverlay(target, base, { format: 'qcow2', virtualSize: 1 << 30 }, 2 * 1024 ** 3).catch(() => undefined); // the recorder makes no file
    const [info, create] = calls();
    expect(info).toEqual(['qemu-img', 'info', '--output=json', '-U', base]);
    expect(create!.slice(0, 8)).toEqual(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base, '-F']);
    expect(create![8]).toBe('qcow2');
    expect(create![9]).toMatch(/root\.qcow2\.partial-\d+$/);
    expect(create![10]).toBe(String(2 * 1024 ** 3));
  });

  it('nix: flakes on, the image drvPath evaluated on a path: flake', async () => {
    const { evalImage, lockFlake } = await import('../../src/adapters/nix.js');
    await lockFlake('/x/.flakevirt/g', { update: true });
    expect(await evalImage('/x/.flakevirt/g', 'g')).toMatch(/nixos-disk-image\.drv$/);
    expect(calls()).toEqual([
      ['nix', '--extra-experimental-features', 'nix-command flakes', 'flake', 'lock', 'path:/x/.flakevirt/g', '--update-input', 'nixos-flake'],
      ['nix', '--extra-experimental-features', 'nix-command flakes', 'eval', '--raw', 'path:/x/.flakevirt/g#packages.x86_64-linux.image.drvPath'],
    ]);
  });

  it('ssh for a remote host\'s QEMU: one call to the host itself, its emulator path one shell word, and the script it runs works', async () => {
    const { remoteQemuCaps, qemuCaps } = await import('../../src/adapters/qemu-caps.js');
    // This ssh logs its argv and runs the remote command with sh here, as the host's shell would.
    writeFileSync(join(dir, 'ssh'), `#!/bin/sh\n{ printf '%s' ssh; for a; do printf '\\t%s' "$a"; done; echo; } >> '${log}'\nfor a; do last=$a; done\nexec sh -c "$last"\n`);
    chmodSync(join(dir, 'ssh'), 0o755);
    const jump = { host: '10.0.0.2', user: 'root', keyFile: '/k/id', noVerify: true };
    const emulator = '/usr/bin/qemu-system-x86_64';
    const caps = await remoteQemuCaps(emulator, jump);
    const [call, ...more] = calls();
    expect(more).toEqual([]);
    expect(call!.slice(0, -1)).toEqual(['ssh', '-i', '/k/id', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=10', 'root@10.0.0.2', '--']);
    expect(call!.at(-1)).toMatch(/^\/usr\/bin\/qemu-system-x86_64 --version 2>\/dev\/null; echo @@flakevirt-qemu-probe@@; /);
    // Where this machine has QEMU, the script's answer is the local probe's.
    if (existsSync(emulator)) expect(caps).toEqual(await qemuCaps(emulator));
    // A path the remote daemon names that is not a plain absolute path is never run.
    for (const hostile of ['/usr/bin/qemu; touch /tmp/pwned', "/usr/bin/q'emu", 'qemu-system-x86_64', '/usr/bin/$(id)', '/usr/bin/qemu\n/bin/sh']) {
      expect(await remoteQemuCaps(hostile, jump), hostile).toBeUndefined();
    }
    expect(calls()).toEqual([]);
  });
});
