// A libvirtd reached over a connection (qemu+ssh://…): guest files are volumes of the storage pool
// "flakevirt" made through libvirt's storage API, base images uploaded once per host by content,
// leases polled with `virsh net-dhcp-leases`. Its files and its QEMU cannot be inspected from here,
// so those checks are left to libvirt when the guest starts.
import type { HostKind } from './kind.js';
import { volumePaths } from '../render/volume.js';

export const remote: HostKind = {
  name: 'remote',
  runsImageless: false,
  paths: (host, guest) => volumePaths(host.pool, guest),
  async store(host, lv, _specPath, qemuLabel) {
    const { VolumeStore } = await import('../adapters/volume-store.js');
    return new VolumeStore(lv.virsh, host, qemuLabel);
  },
  connectFix: (host) => `make sure ssh to the host works (sshd running there, root's key accepted: ssh ${host.connect.replace(/^qemu\+ssh:\/\/([^/?]+).*$/, '$1')} true) and libvirtd runs there`,
  probesKvm: false,
  async poolSpace(host, lv) {
    const { POOL_NAME } = await import('../render/volume.js');
    const free = await lv.virsh.poolAvailable(POOL_NAME);
    return free === undefined ? { notYet: `no storage pool "${POOL_NAME}" yet: up makes it at ${host.pool}` } : { freeBytes: free, where: `pool ${POOL_NAME} (${host.pool})` };
  },
  consoleLog(host, lv) {
    return this.store(host, lv, '', undefined);
  },
  liveNetwork: async () => undefined,
  // The daemon's files are on the other machine: the API lists them.
  stateDomains: async () => undefined,
  async leases(lv, network) {
    const { virshLeases } = await import('../adapters/lease-source.js');
    return virshLeases(lv, network);
  },
  preflight: async () => undefined,
  // Nothing here tells when the remote daemon or its QEMU changed: asked on every run.
  factsKey: async () => undefined,
  async qemuCaps(emulator, host) {
    // Asked over ssh of the host itself: only when the jump is the URI's own host (a bastion in
    // between is not where the emulator runs). Not kept between runs: nothing here tells when it changed.
    const { jumpFromUri } = await import('../hosts.js');
    if (!host.jump || host.jump.host !== jumpFromUri(host.connect)?.host) return undefined;
    const { remoteQemuCaps } = await import('../adapters/qemu-caps.js');
    return remoteQemuCaps(emulator, host.jump);
  },
  // Remote guests' volumes are named by guest; a spec's guests are all looked up by name already.
  leftovers: async () => [],
};
