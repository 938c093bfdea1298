// The README's first command ends in `flakevirt up` with no spec: the built-in example fleet, built
// from Debian packages on first use, comes up on a real libvirtd with NVMe and virtio disks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, TestHost } from '../helpers/testhost.js';

const skip = e2eSkipReason();
const host = skip ? undefined : new TestHost('example');

describe.skipIf(skip)('built-in example fleet', () => {
  beforeAll(() => host!.up());
  afterAll(() => host?.down());

  it('up with no spec brings up tiny-1 and tiny-2 with leases; ips lists them; down --all removes them', () => {
    const r = host!.flakevirt('up', '--timeout', '120');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/using the built-in example fleet/);
    expect(r.stdout).toMatch(/^tiny-1\s+\d+\.\d+\.\d+\.\d+\s+created/m);
    expect(r.stdout).toMatch(/^tiny-2\s+\d+\.\d+\.\d+\.\d+\s+created/m);
    const ips = host!.flakevirt('ips').stdout.trim().split('\n');
    expect(ips.map((l) => l.split(' ')[0])).toEqual(['tiny-1', 'tiny-2']);
    const log = host!.flakevirt('console', 'tiny-1', '--log').stdout;
    expect(log).toMatch(/fv-disk: name=nvme0n1 .*lbs=4096 .*serial=fvnvme0/);
    expect(log).toMatch(/fv-disk: name=vdb .*serial=fv-vdb/);
    const down = host!.flakevirt('down', '--all');
    expect(down.status, down.stderr).toBe(0);
    expect(host!.virsh('list', '--all', '--name').trim()).toBe('');
  });
});
