// The built CLI: exit codes, messages, and that a bad spec changes nothing.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, fixture } from '../helpers/fixtures.js';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');

function run(args: string[], cwd = REPO_ROOT) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, LIBVIRT_DEFAULT_URI: 'test:///default' } });
}

describe('flakevirt CLI', () => {
  it('starts Node without NODE_EXTRA_CA_CERTS (read before any JavaScript, never used): run as the bin, the bundle it names is not even opened', () => {
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/extra-ca.pem' };
    const direct = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8', env });
    // The control: Node itself warns about the missing bundle at start-up.
    expect(direct.stderr).toMatch(/Ignoring extra certs from `\/nonexistent\/extra-ca\.pem`/);
    const bin = spawnSync(CLI, ['--version'], { encoding: 'utf8', env });
    expect(bin.status, bin.stderr).toBe(0);
    expect(bin.stderr).toBe('');
    expect(bin.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 with every issue listed for a bad spec, and creates nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-cli-'));
    writeFileSync(join(dir, 'flakevirt.yaml'), 'pool: /x\nguests:\n  g1:\n    memory: 4GB\n    disks:\n      /dev/vda: { size: 1GiB }\n');
    const r = run(['validate'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/guests\.g1\.memory: "4GB" has an unknown unit/);
    expect(readdirSync(dir)).toEqual(['flakevirt.yaml']);
  });

  it('exits 2 naming a referenced file that does not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-cli-'));
    writeFileSync(join(dir, 'f.yaml'), 'guests:\n  g1: { image: /nonexistent/base.qcow2 }\n');
    const r = run(['validate', '-f', join(dir, 'f.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('guests.g1.image: /nonexistent/base.qcow2 does not exist or is not readable');
  });

  it('exits 2 for an unknown guest name', () => {
    const r = run(['render', 'nope', '-f', fixture('specs', 'valid', 'nix-only.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no guest named "nope" in the spec; known: a, b/);
  });

  it('validates a good spec and renders JSON', () => {
    const spec = fixture('specs', 'valid', 'nix-only.yaml');
    expect(run(['validate', '-f', spec]).status).toBe(0);
    const r = run(['render', 'a', '-f', spec, '--json']);
    expect(r.status).toBe(0);
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['flake.nix', 'default.nix', 'domain.xml']);
  });

  it('render prints the XML up would define: the guest\'s host pool, and QEMU arguments where native NVMe cannot carry a field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-cli-'));
    const file = join(dir, 'flakevirt.yaml');
    writeFileSync(file, 'hosts:\n  a: { connect: "qemu:///system", pool: /srv/pool-a }\nguests:\n  g:\n    image: /dev/null\n    disks:\n      /dev/nvme0n1: { size: 1GiB, mdts: 5 }\n      /dev/nvme1n1: { size: 1GiB }\n');
    writeFileSync(join(dir, 'base.qcow2'), Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]), Buffer.alloc(504)]));
    writeFileSync(file, readFileSync(file, 'utf8').replace('/dev/null', join(dir, 'base.qcow2')));
    const native = JSON.parse(run(['render', 'g', '-f', file, '--json', '--nvme', 'native']).stdout)['domain.xml'] as string;
    // mdts exists only as a QEMU property: up renders every NVMe disk of this guest as QEMU arguments.
    expect(native).toContain('mdts=5');
    expect(native).not.toContain('<controller type="nvme"');
    expect(native).toContain('/srv/pool-a/g/root.qcow2');
    writeFileSync(file, readFileSync(file, 'utf8').replace(', mdts: 5', ''));
    const plain = JSON.parse(run(['render', 'g', '-f', file, '--json', '--nvme', 'native']).stdout)['domain.xml'] as string;
    expect(plain).toContain('<controller type="nvme" index="1">');
  });

  it('inventory prints YAML with --format yaml (yaml is loaded only then)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-cli-'));
    writeFileSync(join(dir, 'flakevirt.yaml'), 'guests:\n  a: { memory: 1GiB }\n');
    const r = run(['inventory', '--format', 'yaml'], dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^all:\n  hosts: \{\}/);
  });

  it('checkpoint and reset refuse a hostile --name with exit 2 before reading anything else', () => {
    const spec = fixture('specs', 'valid', 'nix-only.yaml');
    for (const name of ['a;quit', 'a quit', '-x', 'A', "a'b", 'a\nsavevm x', '$(id)', 'x'.repeat(33), '']) {
      for (const cmd of ['checkpoint', 'reset']) {
        const r = run([cmd, '-f', spec, `--name=${name}`]);
        expect(r.status, `${cmd} --name ${JSON.stringify(name)}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/--name: .* is not a checkpoint name: 1-32 of \[a-z0-9-\]/);
      }
    }
  });

  it('checkpoints lists none on a connection without flakevirt domains', () => {
    const r = run(['checkpoints', '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  it('prints a shell completion script', () => {
    const r = run(['completion']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/flakevirt.*completion/s);
    expect(r.stdout).toMatch(/complete -o (bashdefault|default)/);
  });

  it('read commands speak JSON against the test driver, listing no foreign domain', () => {
    const dir = mkdtempSync(join(tmpdir(), 'flakevirt-cli-'));
    const list = run(['list', '--json'], dir);
    expect(list.status, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]); // test:///default has a domain "test", not flakevirt's
    expect(JSON.parse(run(['ips', '--json'], dir).stdout)).toEqual([]);
  });

  it('names the fix for unknown options and has help and a version', () => {
    expect(run(['--bogus']).status).toBe(2);
    expect(run(['--help']).stdout).toMatch(/validate[\s\S]*render[\s\S]*up/);
    expect(run(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('exit codes, in one place (src/errors.ts)', () => {
  it('maps each error class, and a run over several guests the same way for every command', async () => {
    const { exitCodeFor, runExitCode, SpecError, ToolError, RefusedError } = await import('../../src/errors.js');
    const spec = new SpecError([{ path: 'x', message: 'y' }]);
    const tool = new ToolError({ message: 'm', command: 'c' });
    expect([exitCodeFor(spec), exitCodeFor(tool), exitCodeFor(new RefusedError('r')), exitCodeFor(new Error('bug'))]).toEqual([2, 1, 1, 70]);
    expect(runExitCode([undefined, undefined])).toBe(0);
    expect(runExitCode([undefined, tool])).toBe(1);
    expect(runExitCode([tool, spec])).toBe(2);
  });
});
