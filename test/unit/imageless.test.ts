// Imageless guests in the pure core (issue 23): the spec's kernel, the closure's boot.json, the
// command line, the domain (no root disk, read-only shares, shared memory), the state a kernel change
// shows in, the plans without a root disk, placement on hosts that run them, the Nix rendering.
import { describe, expect, it } from 'vitest';
import { fleetFrom } from '../helpers/fixtures.js';
import { bootKindOf } from '../../src/boot-kinds/kind.js';
import { imagelessCmdline, parseBootspec, renderImageless } from '../../src/boot-kinds/imageless.js';
import { desiredGuest } from '../../src/render/guest.js';
import { guestPaths } from '../../src/render/paths.js';
import { diffState, type ImagelessBoot } from '../../src/render/state.js';
import { parseDomain } from '../../src/libvirt-xml/domain.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { planReimage, planUp } from '../../src/plan.js';
import { place } from '../../src/placement.js';
import { renderNix } from '../../src/render/nix.js';
import { buildGroups } from '../../src/render/build-group.js';
import { checkpointBlockers } from '../../src/checkpoint.js';
import { findVirtiofsd, VIRTIOFSD_CANDIDATES, VIRTIOFSD_FIX } from '../../src/adapters/virtiofsd.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@host';
const SPEC = `sshKeys: ["${KEY}"]
defaults: { imageless: { bzImage: /k/bzImage, modules: /k/lib/modules } }
guests:
  a: { disks: { /dev/nvme0n1: { size: 1GiB }, /dev/vdb: { size: 1GiB } } }
  b: { imageless: { tree: ~/src/linux } }
  c: { image: /b.qcow2 }
  d: {}
`;
const fleet = fleetFrom(SPEC);
const guest = (n: string) => fleet.guests.find((g) => g.name === n)!;
const TEMPLATE = readFileSync(join(REPO_ROOT, 'domain-templates', 'q35.xml'), 'utf8');
const STORE = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz';
const boot = (over: Partial<ImagelessBoot> = {}): ImagelessBoot => ({
  bzImage: '/k/bzImage', release: '6.12.95+deb12-cloud-amd64', modules: '/k/lib/modules', kernelId: 'aaaa1111bbbb2222',
  closure: { init: `${STORE}-nixos-system-unnamed-26.05/init`, initrd: `${STORE}-initrd-linux/initrd`, kernelParams: [] }, virtiofsd: '/usr/libexec/virtiofsd', ...over,
});
function desired(name: string, b = boot()) {
  const g = guest(name);
  return desiredGuest({ fleet, guest: g, facts: { domainType: 'qemu', nvme: 'commandline' }, base: { path: `${STORE}-nixos-system-unnamed-26.05`, id: 'nix:x' }, paths: guestPaths(fleet.pool, g.name), templateText: TEMPLATE, imageless: b });
}

describe('imageless guests: the spec', () => {
  it('a guest takes its kernel from defaults unless it names its own, or an image', () => {
    expect(guest('a').boot).toEqual({ kind: 'imageless', source: { bzImage: '/k/bzImage', modules: '/k/lib/modules' } });
    expect(guest('b').boot).toEqual({ kind: 'imageless', source: { tree: '/home/dev/src/linux' } });
    expect(guest('c').boot.kind).toBe('image');
    expect(bootKindOf(guest('d').boot).name).toBe('imageless');
    expect(bootKindOf(guest('a').boot)).toMatchObject({ nixBuilt: true, rootDisk: false, nixBuild: { attr: 'toplevel', output: 'boot.json' } });
    expect(bootKindOf(guest('a').boot).describe(guest('a').boot)).toBe('imageless, kernel /k/bzImage (modules /k/lib/modules)');
  });
  it('an imageless guest takes no checkpoint, with the reason and what to do instead', () => {
    expect(checkpointBlockers(guest('d'))[0]?.message).toMatch(/does not checkpoint an imageless guest.*virtiofsd.*flakevirt reimage/);
  });
});

describe('imageless guests: the closure\'s boot.json', () => {
  const doc = (v1: Record<string, unknown>) => JSON.stringify({ 'org.nixos.bootspec.v1': v1, 'org.nixos.specialisation.v1': {} });
  const good = { init: `${STORE}-sys/init`, initrd: `${STORE}-initrd/initrd`, kernel: `${STORE}-linux/bzImage`, kernelParams: ['nvme_core.multipath=N'], label: 'x', system: 'x86_64-linux', toplevel: `${STORE}-sys` };
  it('gives init, initrd and the kernel parameters, never the kernel it names', () => {
    expect(parseBootspec(doc(good))).toEqual({ init: good.init, initrd: good.initrd, kernelParams: ['nvme_core.multipath=N'] });
  });
  it.each([
    ['not JSON', '{', /not JSON/],
    ['no bootspec', '{}', /no "org\.nixos\.bootspec\.v1"/],
    ['init outside the store', doc({ ...good, init: '/sbin/init' }), /init is not a file in \/nix\/store/],
    ['init climbing out of the store', doc({ ...good, init: `${STORE}-sys/../../../etc/init` }), /init is not a file in \/nix\/store/],
    ['a bad store hash', doc({ ...good, initrd: '/nix/store/eeee-x/initrd' }), /initrd is not a file in \/nix\/store/],
    ['a parameter with a space', doc({ ...good, kernelParams: ['a b'] }), /kernelParams is not a list of printable words/],
    ['a parameter with a newline', doc({ ...good, kernelParams: ['a\ninit=/bin/sh'] }), /kernelParams/],
  ])('refuses %s', (_what, text, message) => {
    expect(parseBootspec(text)).toMatch(message);
  });
  it('puts root=tmpfs, both consoles (the serial one last: /dev/console is what flakevirt logs) and init= first', () => {
    expect(imagelessCmdline({ init: '/nix/store/x/init', initrd: '', kernelParams: ['p=1'] })).toBe('root=tmpfs console=hvc0 console=ttyS0,115200 init=/nix/store/x/init p=1');
  });
});

describe('imageless guests: the domain', () => {
  it('boots the developer\'s kernel with the closure\'s initrd and init, the store and modules shared read-only, no root disk', () => {
    const d = parseDomain(desired('a').xml)!;
    expect([d.os.kernel, d.os.initrd, d.os.cmdline]).toEqual(['/k/bzImage', `${STORE}-initrd-linux/initrd`, `root=tmpfs console=hvc0 console=ttyS0,115200 init=${STORE}-nixos-system-unnamed-26.05/init`]);
    expect(d.os.boot).toEqual([]);
    expect(d.memoryBacking).toMatchObject({ source: 'memfd', access: 'shared' });
    expect(d.devices.filesystems.map((f) => ({ tag: f.tag, source: f.source, readonly: f.readonly, driver: f.driver, queue: f.queue, binary: f.binary })))
      .toEqual([
        { tag: 'store', source: '/nix/store', readonly: true, driver: 'virtiofs', queue: 1024, binary: '/usr/libexec/virtiofsd' },
        { tag: 'modules', source: '/k/lib/modules', readonly: true, driver: 'virtiofs', queue: 1024, binary: '/usr/libexec/virtiofsd' },
      ]);
    expect(d.devices.consoles.map((c) => c.target)).toEqual(['serial', 'virtio']);
    expect(d.devices.disks.map((x) => x.target.dev)).toEqual(['vdb']);
    expect(d.qemuArgs.join(' ')).toContain('nvme');
    expect(desired('a').desired.root).toBeUndefined();
  });
  it('carries the kernel\'s release and content in its state: a rebuilt kernel is a change, named by release', () => {
    const before = desired('a').desired.state;
    const after = desired('a', boot({ release: '6.13.0-rc2+', kernelId: 'cccc3333dddd4444' })).desired.state;
    expect(diffState(before, after)).toEqual(['kernel: 6.12.95+deb12-cloud-amd64 (aaaa1111bbbb2222) → 6.13.0-rc2+ (cccc3333dddd4444)']);
    expect(desired('a').desired.fingerprint).toBe(desired('a', boot()).desired.fingerprint);
    expect(before.rootSize).toBeUndefined();
  });
  it('escapes hostile paths through the XML builder, never into another element', () => {
    const d = parseDomain(desired('a', boot({ bzImage: '/k/</kernel><kernel>/etc/x', modules: "/m/'\"><source dir='/'/>" })).xml)!;
    expect(d.os.kernel).toBe('/k/</kernel><kernel>/etc/x');
    expect(d.devices.filesystems[1]!.source).toBe("/m/'\"><source dir='/'/>");
    expect(d.devices.filesystems).toHaveLength(2);
  });
  it('render shows placeholders without reading the kernel or building the closure', () => {
    expect(renderImageless({ tree: '/src/linux' })).toMatchObject({ bzImage: '/src/linux/arch/x86/boot/bzImage', release: '<release>' });
  });
});

describe('imageless guests: plans without a root disk', () => {
  const x = desired('a').desired;
  const files = new Set(x.disks.map((d) => d.path));
  const owner = { spec: '/s', fingerprint: x.fingerprint, dir: '/d', base: '/b', state: x.state };
  const kinds = (p: ReturnType<typeof planUp>) => (p.kind === 'act' ? p.actions.map((a) => a.kind) : p.kind);
  it('up creates the disks and starts it, with no root overlay', () => {
    expect(kinds(planUp('a', x, { existing: new Set() }))).toEqual(['prepare-dir', 'create-disk', 'create-disk', 'define', 'start', 'wait-lease']);
    expect(planUp('a', x, { domain: { running: true, owner, boot: { startedAt: 1, before: new Map(), lease: '10.0.0.2' } }, existing: files })).toMatchObject({ kind: 'noop' });
  });
  it('a kernel change redefines and restarts it, its disks kept', () => {
    const y = desired('a', boot({ kernelId: 'ffff' })).desired;
    expect(kinds(planUp('a', y, { domain: { running: true, owner }, existing: files }))).toEqual(['stop', 'prepare-dir', 'define', 'start', 'wait-lease']);
  });
  it('reimage is a restart', () => {
    expect(kinds(planReimage('a', x, { domain: { running: true, owner }, existing: files }))).toEqual(['stop', 'prepare-dir', 'start', 'wait-lease']);
  });
});

describe('imageless guests: placement and builds', () => {
  const g = (name: string, imageless: boolean, host?: string) => ({ name, memoryBytes: 1 << 30, vcpus: 1, imageless, ...(host && { host }) });
  const hosts = [{ name: 'far', memoryBytes: 64 * 2 ** 30, runsImageless: false }, { name: 'here', memoryBytes: 2 * 2 ** 30, runsImageless: true }];
  it('go only to hosts that run them, however much room others have', () => {
    const r = place({ guests: [g('i', true), g('n', false)], hosts, existing: new Map(), recorded: new Map() });
    expect(r.ok && [...r.placement.hostOf]).toEqual([['i', 'here'], ['n', 'far']]);
  });
  it('pinned to a remote host, or with none that runs them, are refused with the reason', () => {
    const r = place({ guests: [g('i', true, 'far')], hosts, existing: new Map(), recorded: new Map() });
    expect(!r.ok && r.issues[0]).toMatchObject({ path: 'guests.i.host', message: expect.stringMatching(/imageless.*this machine's \/nix\/store.*not on far/) });
    const none = place({ guests: [g('i', true)], hosts: [hosts[0]!], existing: new Map(), recorded: new Map() });
    expect(!none.ok && none.issues[0]!.message).toMatch(/runs only on a libvirt host on this machine/);
  });
  it('render a flake without a disk size, and share one build when their configurations are equal', () => {
    expect(renderNix(fleet, guest('a'))['flake.nix']).not.toContain('diskSizeMiB');
    expect(renderNix(fleet, guest('c'))['flake.nix']).toContain('diskSizeMiB');
    const groups = buildGroups(fleet, fleet.guests);
    expect(groups.map((x) => x.guests.map((y) => y.name))).toEqual([['a'], ['b', 'd']]);
  });
});

describe('virtiofsd, a host requirement of imageless guests', () => {
  it('is looked for where the distributions put it and where scripts/install-virtiofsd.sh puts it', async () => {
    expect(VIRTIOFSD_CANDIDATES).toEqual(expect.arrayContaining(['/usr/libexec/virtiofsd', '/usr/local/libexec/flakevirt-virtiofsd']));
    expect(await findVirtiofsd(['/nonexistent/virtiofsd', '/bin/sh'])).toBe('/bin/sh');
    expect(await findVirtiofsd(['/nonexistent/virtiofsd', '/nonexistent/too'])).toBeUndefined();
    expect(VIRTIOFSD_FIX).toMatch(/apt install virtiofsd.*scripts\/install-virtiofsd\.sh/);
  });
});
