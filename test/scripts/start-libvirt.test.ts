// scripts/start-libvirt.sh (setup.sh's daemon step) on a machine without systemd where a virtlogd of
// another mount namespace runs (a test host, a container): it must start this namespace's own
// virtlogd, or every guest start fails with "Failed to connect socket to /run/libvirt/virtlogd-sock".
// setup.sh once decided by `pgrep -x virtlogd` and broke CI exactly so.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { e2eSkipReason } from '../helpers/testhost.js';

const skip = e2eSkipReason();
const scratch = skip ? '' : mkdtempSync('/var/tmp/flakevirt-start-libvirt-');
afterAll(() => { if (scratch) rmSync(scratch, { recursive: true, force: true }); });

describe.skipIf(skip)('start-libvirt.sh', () => {
  it('starts virtlogd and libvirtd by their sockets, whatever processes of that name run elsewhere', () => {
    // A process named virtlogd that serves nothing here (what a test host's virtlogd is to this namespace).
    const decoy = join(scratch, 'virtlogd');
    copyFileSync('/bin/sleep', decoy);
    // Private /run, libvirt state and configuration, and network: nothing here touches the machine's libvirt.
    const script = `
set -eu
mount -t tmpfs tmpfs /run
mkdir -p /run/libvirt /run/lock
for d in /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /etc/libvirt; do mount -t tmpfs tmpfs "$d"; done
ip link set lo up
${decoy} 120 & decoy=$!
rc=0; bash ${join(REPO_ROOT, 'scripts', 'start-libvirt.sh')} || rc=$?
echo "rc=$rc"
node -e 'require("node:net").connect("/run/libvirt/virtlogd-sock").on("connect", () => { console.log("virtlogd=answers"); process.exit(0); }).on("error", () => { console.log("virtlogd=silent"); process.exit(0); })'
virsh -q -c qemu:///system version >/dev/null 2>&1 && echo libvirtd=answers || echo libvirtd=silent
# Twice converges: nothing more is started.
bash ${join(REPO_ROOT, 'scripts', 'start-libvirt.sh')} && echo again=ok
# (pid files end without a newline: read them one by one)
for f in /run/libvirtd.pid /run/virtlogd.pid; do [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
kill $decoy 2>/dev/null || true
`;
    const r = spawnSync('unshare', ['-m', '-n', '--propagation', 'private', 'bash', '-c', script], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout, r.stderr).toContain('rc=0');
    expect(r.stdout).toContain('virtlogd=answers');
    expect(r.stdout).toContain('libvirtd=answers');
    expect(r.stdout).toContain('again=ok');
  });
});
