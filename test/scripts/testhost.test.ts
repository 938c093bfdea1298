// scripts/testhost.sh on a machine whose own libvirt is set up the way setup.sh (or a user) leaves
// it: an autostarted default network, a pool whose directory is gone, a daemon hook. A test host
// must start from a clean configuration and come up with its own default network active.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { e2eSkipReason } from '../helpers/testhost.js';

const skip = e2eSkipReason();
const scratch = skip ? '' : mkdtempSync('/var/tmp/flakevirt-testhost-');
afterAll(() => { if (scratch) rmSync(scratch, { recursive: true, force: true }); });

describe.skipIf(skip)('testhost.sh on a host with its own libvirt configuration', () => {
  it('ignores the machine\'s networks, pools and hooks, and starts its own default network', () => {
    const marker = join(scratch, 'hook-ran');
    // The machine's /etc/libvirt is replaced, for this script only, by one in a private mount namespace.
    const script = `
set -eu
mount -t tmpfs tmpfs /etc/libvirt
mkdir -p /etc/libvirt/qemu/networks/autostart /etc/libvirt/storage/autostart /etc/libvirt/hooks
cp /usr/share/libvirt/networks/default.xml /etc/libvirt/qemu/networks/default.xml
ln -s ../default.xml /etc/libvirt/qemu/networks/autostart/default.xml
printf '<pool type="dir"><name>flakevirt</name><target><path>/var/lib/libvirt/flakevirt-gone</path></target></pool>\\n' > /etc/libvirt/storage/flakevirt.xml
ln -s ../flakevirt.xml /etc/libvirt/storage/autostart/flakevirt.xml
printf '#!/bin/sh\\ntouch %s\\n' '${marker}' > /etc/libvirt/hooks/daemon; chmod +x /etc/libvirt/hooks/daemon
T=${join(REPO_ROOT, 'scripts', 'testhost.sh')}
rc=0; "$T" up clean-cfg >/dev/null || rc=$?
echo "up=$rc"
if [ $rc = 0 ]; then
  echo "net=$("$T" exec clean-cfg -- virsh -q -c qemu:///system net-list --name | tr -d ' \\n')"
  echo "pools=$("$T" exec clean-cfg -- virsh -q -c qemu:///system pool-list --all --name | tr -d ' \\n')"
fi
"$T" down clean-cfg
`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script], { encoding: 'utf8' });
    expect(r.stdout, r.stderr).toContain('up=0');
    expect(r.stdout).toContain('net=default');
    expect(r.stdout).toContain('pools=\n');
    expect(existsSync(marker)).toBe(false);
  });
});
