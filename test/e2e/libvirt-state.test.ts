// Read commands list domains from libvirtd's state files (src/adapters/libvirt-state.ts) on a real
// daemon: the files say what the API says (running, paused, shut off, transient, with the same
// facts in their XML); a `list` finishes while another domain is being destroyed, where the API's
// listing waits for it; and what the QEMU user plants or renames in its directory changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkipReason, finish, TestHost, tinyGuest } from '../helpers/testhost.js';
import { stateDomains } from '../../src/adapters/libvirt-state.js';
import { domainFacts } from '../../src/ownership.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const skip = e2eSkipReason();
const host = skip ? undefined : new TestHost('lvstate');
let spec = '';
let nsRoot = '';
const TESTHOST = join(REPO_ROOT, 'scripts', 'testhost.sh');
const CLI = join(REPO_ROOT, 'dist', 'cli.js');

type Row = { name: string; state: string; ip: string | null };
const rows = (env: Record<string, string> = {}): Row[] => {
  const r = host!.flakevirtEnv(env, 'list', '-f', spec, '--json');
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Row[]).map(({ name, state, ip }) => ({ name, state, ip }));
};
/** What the API says of every domain: virsh's names, states and XML. */
function apiView(): Array<{ name: string; state: string; facts: unknown }> {
  const names = host!.virsh('list', '--all', '--name').split('\n').map((s) => s.trim()).filter(Boolean);
  return names.map((name) => ({ name, state: host!.virsh('domstate', name).trim(), facts: domainFacts(host!.virsh('dumpxml', name)) })).sort((a, b) => (a.name < b.name ? -1 : 1));
}
function fileView() {
  const all = stateDomains({ config: join(nsRoot, 'etc/libvirt/qemu'), status: join(nsRoot, 'run/libvirt/qemu') });
  expect(all, 'the files answered').toBeDefined();
  return all!.map((d) => ({ name: d.name, state: d.state, facts: domainFacts(d.xml) })).sort((a, b) => (a.name < b.name ? -1 : 1));
}
/** Runs a shell command as the QEMU user inside the host (the owner of /run/libvirt/qemu). */
const asQemuUser = (cmd: string, input?: string) => host!.exec(['setpriv', '--reuid', 'libvirt-qemu', '--regid', 'libvirt-qemu', '--clear-groups', '--', 'sh', '-c', cmd], input);

describe.skipIf(skip)('domains from libvirtd\'s state files', () => {
  beforeAll(() => {
    host!.up();
    nsRoot = `/proc/${readFileSync(`/run/flakevirt-testhost/${host!.name}/ns.pid`, 'utf8').trim()}/root`;
    const g = tinyGuest();
    spec = join(host!.scratch, 'flakevirt.yaml');
    const guest = `{ image: ${g.base}, kernel: ${g.kernel}, initrd: ${g.initrd}, cmdline: "console=ttyS0 no_timer_check" }`;
    writeFileSync(spec, `pool: ${join(host!.scratch, 'pool')}
accel: tcg
defaults: { memory: 256MiB, vcpus: 2, diskSize: 1GiB }
guests:
  st-a: ${guest}
  st-b: ${guest}
  st-c: ${guest}
`);
    const r = host!.flakevirt('up', '-f', spec, '--timeout', '600');
    expect(r.status, r.stderr).toBe(0);
    host!.virsh('suspend', 'st-b');
    host!.virsh('destroy', 'st-c');
    // A transient domain that is not flakevirt's: in the status directory only.
    writeFileSync(join(host!.scratch, 'transient.xml'), `<domain type='qemu'><name>foreign-transient</name><memory unit='MiB'>64</memory><os><type>hvm</type><kernel>${g.kernel}</kernel><cmdline>console=ttyS0</cmdline></os><devices><serial type='pty'/></devices></domain>`);
    host!.virsh('create', join(host!.scratch, 'transient.xml'));
  }, 900_000);
  afterAll(() => host?.down());

  it('the files say what the API says: running, paused, shut off and transient domains, the same facts', () => {
    const files = fileView();
    expect(files.map((d) => `${d.name}:${d.state}`)).toEqual(['foreign-transient:running', 'st-a:running', 'st-b:paused', 'st-c:shut off']);
    expect(files).toEqual(apiView());
    expect(rows()).toEqual(rows({ FLAKEVIRT_DOMAIN_SOURCE: 'libvirt' }));
  });

  it('list and ips finish while another domain is being destroyed; the API\'s listing waits for it', async () => {
    host!.virsh('resume', 'st-b');
    // QEMU stopped: destroy's SIGTERM stays pending and libvirt holds the domain's lock ~10 s until its SIGKILL.
    const pid = Number(readFileSync(join(nsRoot, 'run/libvirt/qemu/st-a.pid'), 'utf8'));
    process.kill(pid, 'SIGSTOP');
    const destroy = spawn(TESTHOST, ['exec', host!.name, '--', 'virsh', '-c', 'qemu:///system', 'destroy', 'st-a'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const destroyed = finish(destroy);
    let done = false;
    void destroyed.then(() => (done = true));
    // The destroy has begun once SIGTERM is pending on the stopped QEMU.
    const sigterm = 1n << 14n;
    for (let i = 0; i < 100 && !(BigInt(`0x${/ShdPnd:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]}`) & sigterm); i++) await new Promise((r) => setTimeout(r, 100));
    const viaApi = finish(spawn(TESTHOST, ['exec', host!.name, '--', 'env', 'FLAKEVIRT_DOMAIN_SOURCE=libvirt', process.execPath, CLI, 'list', '-f', spec], { cwd: host!.scratch, stdio: ['ignore', 'pipe', 'pipe'] }));
    let apiDone = false;
    void viaApi.then(() => (apiDone = true));
    const list = await finish(spawn(TESTHOST, ['exec', host!.name, '--', process.execPath, CLI, 'list', '-f', spec, '--json'], { cwd: host!.scratch, stdio: ['ignore', 'pipe', 'pipe'] }));
    const ips = await finish(spawn(TESTHOST, ['exec', host!.name, '--', process.execPath, CLI, 'ips', '-f', spec], { cwd: host!.scratch, stdio: ['ignore', 'pipe', 'pipe'] }));
    const finishedFirst = !done;
    const apiWaited = !apiDone;
    const d = await destroyed;
    await viaApi;
    expect(d.status, d.stderr).toBe(0);
    expect(list.status, list.stderr).toBe(0);
    expect(finishedFirst, `list took ${list.ms} ms, ips ${ips.ms} ms, destroy ${d.ms} ms`).toBe(true);
    expect(apiWaited, 'the API listing (FLAKEVIRT_DOMAIN_SOURCE=libvirt) finished before the destroy did').toBe(true);
    // Still running while it is being killed; the others as they are.
    expect((JSON.parse(list.stdout) as Row[]).map((r) => `${r.name}:${r.state}`)).toEqual(['st-a:running', 'st-b:running', 'st-c:shut off']);
    expect(ips.stdout).toMatch(/^st-b \d+\.\d+\.\d+\.\d+$/m);
    expect(rows().find((r) => r.name === 'st-a')?.state).toBe('shut off');
  }, 120_000);

  it('what the QEMU user plants or renames in /run/libvirt/qemu changes nothing', () => {
    const before = rows();
    // A status file of its own making, for a "flakevirt guest" with st-b's XML.
    const forged = readFileSync(join(nsRoot, 'run/libvirt/qemu/st-b.xml'), 'utf8').replaceAll('<name>st-b</name>', '<name>forged</name>');
    expect(asQemuUser('cat > /run/libvirt/qemu/forged.xml', forged).status).toBe(0);
    // st-b's real status file renamed (the directory is the QEMU user's): the files cannot tell, the API answers.
    expect(asQemuUser('mv /run/libvirt/qemu/st-b.xml /run/libvirt/qemu/st-z.xml').status).toBe(0);
    try {
      expect(stateDomains({ config: join(nsRoot, 'etc/libvirt/qemu'), status: join(nsRoot, 'run/libvirt/qemu') })).toBeUndefined();
      expect(rows()).toEqual(before);
    } finally {
      asQemuUser('mv /run/libvirt/qemu/st-z.xml /run/libvirt/qemu/st-b.xml');
    }
    expect(fileView().map((d) => d.name)).not.toContain('forged');
    expect(rows()).toEqual(before);
    execFileSync('rm', ['-f', join(nsRoot, 'run/libvirt/qemu/forged.xml')]);
  });
});
