// The CLI with several hosts, on libvirt's test driver: plan, refusals, --host, --connect.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');

function setup(guests: string, hosts = `  a: { connect: "test:///default", memory: 1GiB }\n  b: { connect: "test:///default", memory: 1GiB, vcpus: 2 }\n`) {
  const dir = mkdtempSync(join(tmpdir(), 'flakevirt-hosts-'));
  const spec = join(dir, 'flakevirt.yaml');
  writeFileSync(spec, `pool: ${dir}/pool\nhosts:\n${hosts}defaults: { memory: 512MiB, vcpus: 1, image: /dev/null }\nguests:\n${guests}`.replace('image: /dev/null', ''));
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, '-f', spec, ...args], { encoding: 'utf8' });
  return { dir, spec, run };
}

describe('flakevirt with hosts:', () => {
  it('plan places guests deterministically and records nothing', () => {
    const { dir, run } = setup('  g1: {}\n  g2: {}\n  g3: { host: b }\n');
    const r = run('plan', '--json');
    expect(r.status, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { guests: Array<{ guest: string; host: string; why: string }> };
    expect(plan.guests).toEqual([
      expect.objectContaining({ guest: 'g1', host: 'a', why: 'placed' }),
      expect.objectContaining({ guest: 'g2', host: 'a', why: 'placed' }),
      expect.objectContaining({ guest: 'g3', host: 'b', why: 'pinned' }),
    ]);
    expect(run('plan', '--json').stdout).toBe(r.stdout);
    expect(existsSync(join(dir, 'pool', '.placement.json'))).toBe(false);
    const text = run('plan', '--host', 'b');
    expect(text.stdout).toMatch(/^GUEST\s+HOST\s+MEMORY\s+VCPUS\s+WHY\ng3\s+b\s+512MiB\s+1\s+pinned\n\nHOST\s+MEMORY FOR THE SPEC'S GUESTS\nb\s+1GiB, declared \(hosts\.b\.memory\); its guests here take 512MiB \(1 guest\)\n$/);
  });

  it('plan shows how a host\'s memory came about: the host\'s, less what running domains that are not the spec\'s take', () => {
    // libvirt's test driver: 3 GiB of memory and one running 8 GiB domain ("test") that is not ours.
    const { run } = setup('  g1: { host: a }\n', '  a: { connect: "test:///default" }\n');
    const r = run('plan');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^\s+a\s+0B\s+512MiB/m);
    expect(r.stderr).toMatch(/hosts\.a: .*it offers no memory \(5GiB short\) = 3GiB on the host − 8GiB of 1 running domain that is not the spec's \(shut-off domains take nothing; set hosts\.a\.memory to say otherwise\)/);
    const json = JSON.parse(setup('  g1: { host: a }\n', '  a: { connect: "test:///default", memory: 2GiB }\n').run('plan', '--json').stdout) as { hosts: unknown[] };
    expect(json.hosts).toEqual([{ name: 'a', memoryBytes: 2 * 2 ** 30, memorySource: { from: 'declared' } }]);
  });

  it('refuses a fleet that does not fit with exit 2 and a host table, changing nothing', () => {
    const { dir, run } = setup('  g1: {}\n  g2: {}\n  g3: {}\n  g4: {}\n  g5: { vcpus: 3 }\n');
    const r = run('up');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/the guests do not fit on the hosts:\n\s+HOST\s+MEMORY\s+USED\s+VCPUS\s+USED\s+GUESTS\n/);
    expect(r.stderr).toMatch(/guests\.g5: g5 \(512MiB, 3 vCPUs\) fits on no host/);
    expect(existsSync(join(dir, 'pool'))).toBe(false);
  });

  it('names an unknown --host and refuses --connect next to hosts:', () => {
    const { run } = setup('  g1: {}\n');
    const r = run('list', '--host', 'nope');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--host: no host named "nope" in the spec; known: a, b/);
    const c = run('plan', '--connect', 'qemu:///system');
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/--connect: the spec lists hosts:.*use --host NAME/);
  });

  it('validate lists the hosts', () => {
    const { run } = setup('  g1: { host: a }\n');
    const r = run('validate');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/valid, 1 guest on 2 hosts \(a, b\)\n  g1: on a, 1 vCPU/);
  });
});
