// A libvirtd on this machine (qemu:///system): guest files are made directly in a directory,
// leases come from dnsmasq's status file (watched), qemu's access to files and its device
// properties can be checked here before anything is defined.
import type { HostKind } from './kind.js';
import { guestPaths } from '../render/paths.js';

export const local: HostKind = {
  name: 'local',
  runsImageless: true,
  paths: (host, guest) => guestPaths(host.pool, guest),
  async store(host, _lv, specPath, qemuLabel) {
    const { FileStore } = await import('../adapters/file-store.js');
    return new FileStore(host.pool, specPath, qemuLabel);
  },
  connectFix: () => 'start libvirtd (systemctl start libvirtd, or scripts/start-libvirt.sh) and check the URI',
  probesKvm: true,
  async poolSpace(host) {
    // The pool directory, or the nearest directory above it that exists (up makes the rest).
    const { statfs } = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    for (let dir = host.pool; ; dir = dirname(dir)) {
      const st = await statfs(dir).catch(() => undefined);
      if (st) return { freeBytes: Number(st.bavail) * Number(st.bsize), where: dir };
      if (dirname(dir) === dir) return { notYet: `cannot read the filesystem of ${host.pool}` };
    }
  },
  async consoleLog() {
    const { readFileFrom } = await import('../adapters/read-head.js');
    return { readConsoleFrom: async (paths, from) => readFileFrom(paths.console, from) };
  },
  async liveNetwork(network) {
    // libvirt's live network status file (root only, there while the network runs): a file read
    // instead of a virsh process, and what it says kept by the file's identity (libvirtd rewrites
    // it when the network starts or changes), so a read command does not load the XML parser.
    const { cachedJson, fileIdentity } = await import('../adapters/file-cache.js');
    const file = `/run/libvirt/network/${network}.xml`;
    const net = await cachedJson('live-network', await fileIdentity(file), async () => {
      const [{ readFile }, { parseNetwork }] = await Promise.all([import('node:fs/promises'), import('../libvirt-xml/network.js')]);
      const xml = await readFile(file, 'utf8').catch(() => undefined);
      return xml ? parseNetwork(xml) : {};
    }, (n) => !!n.bridge);
    return net.bridge ? net : undefined;
  },
  async stateDomains(host) {
    // qemu:///system only (a session daemon keeps them elsewhere); FLAKEVIRT_DOMAIN_SOURCE=libvirt
    // asks the API instead (the test that compares the two uses it).
    if (!/^qemu(\+unix)?:\/\/\/system(\?|$)/.test(host.connect) || process.env.FLAKEVIRT_DOMAIN_SOURCE === 'libvirt') return undefined;
    const { stateDomains } = await import('../adapters/libvirt-state.js');
    return stateDomains();
  },
  async leases(lv, network, bridge) {
    const { statusFileLeases, virshLeases } = await import('../adapters/lease-source.js');
    // FLAKEVIRT_LEASE_SOURCE=virsh forces the polling path remote hosts use (tests use it).
    if (process.env.FLAKEVIRT_LEASE_SOURCE === 'virsh') return virshLeases(lv, network);
    return (await statusFileLeases(bridge)) ?? virshLeases(lv, network);
  },
  async preflight(files, qemuLabel, guest) {
    const { checkQemuCanRead } = await import('../adapters/permissions.js');
    for (const f of files) await checkQemuCanRead(f, qemuLabel, guest);
  },
  async factsKey(host) {
    const { fileIdentity } = await import('../adapters/file-cache.js');
    const run = process.env.XDG_RUNTIME_DIR && host.connect.includes('/session') ? `${process.env.XDG_RUNTIME_DIR}/libvirt` : '/run/libvirt';
    // The daemon's sockets (made when it starts) and binaries (an upgrade), the emulators libvirt
    // picks from (an upgrade of QEMU), and /dev/kvm (KVM loaded or not).
    const files = [`${run}/libvirt-sock`, `${run}/virtqemud-sock`, '/usr/sbin/libvirtd', '/usr/sbin/virtqemud', `/usr/bin/qemu-system-${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}`, '/usr/libexec/qemu-kvm', '/dev/kvm'];
    // A file that is not there is part of the key too (a daemon or emulator appearing changes it).
    return (await Promise.all(files.map(async (f) => (await fileIdentity(f)) ?? `${f}:none`))).join('\n');
  },
  async qemuCaps(emulator) {
    const { qemuCaps } = await import('../adapters/qemu-caps.js');
    return qemuCaps(emulator);
  },
  async leftovers(host, specPath) {
    const { ownedGuestDirs } = await import('../adapters/guest-dir.js');
    return (await ownedGuestDirs(host.pool)).filter((o) => o.manifest.spec === specPath).map((o) => ({ name: o.name, dir: o.paths.dir }));
  },
};
