// What the libvirt host offers: KVM or not, libvirt's own NVMe bus or not, qemu's DAC user.
import type { HostInfo } from '../render/state.js';
import type { Libvirt } from './libvirt.js';
import { parseCapabilities, parseDomainCapabilities } from '../libvirt-xml/host.js';
import { cachedJson } from './file-cache.js';

export type { HostInfo } from '../render/state.js';

/**
 * What the host offers. With a `key` (the host kind's identity of the daemon, its emulators and
 * /dev/kvm: host-kinds/) the answer is kept between runs, so a no-op `up` asks virsh nothing.
 */
export async function readHostInfo(lv: Libvirt, key: string | undefined): Promise<HostInfo> {
  if (!key) return (await queryHostInfo(lv)).info;
  // An answer with a domcapabilities call that failed is used but not kept.
  return (await cachedJson('host-facts', `${lv.uri}\n${key}`, () => queryHostInfo(lv), (r) => r.complete)).info;
}

async function queryHostInfo(lv: Libvirt): Promise<{ info: HostInfo; complete: boolean }> {
  const [caps, kvmCaps, qemuCaps] = await Promise.all([
    lv.virsh.capabilities(),
    lv.virsh.domCapabilities('kvm').catch(() => ''),
    lv.virsh.domCapabilities('qemu').catch(() => ''),
  ]);
  const kvm = kvmCaps ? parseDomainCapabilities(kvmCaps) : undefined;
  const domcaps = kvm ?? (qemuCaps ? parseDomainCapabilities(qemuCaps) : undefined);
  const emulator = domcaps?.emulator;
  const info: HostInfo = {
    kvm: kvm?.domainType === 'kvm',
    nativeNvme: domcaps?.diskBuses.includes('nvme') ?? false,
    ...parseDacLabel(caps),
    ...(emulator && { emulator }),
  };
  // No kvm answer is how a host without KVM answers; no answer at all is a failure not to keep.
  return { info, complete: !!caps && !!(kvmCaps || qemuCaps) };
}

/** The DAC base label for kvm (else qemu) domains from capabilities XML. */
export function parseDacLabel(caps: string): { qemuLabel?: string } {
  const { kvm, qemu } = parseCapabilities(caps).dacLabels;
  const label = kvm ?? qemu;
  return label ? { qemuLabel: label } : {};
}

/** "+64055:+64055" → { uid: 64055, gid: 64055 }. */
export function parseLabel(label: string | undefined): { uid: number; gid: number } | undefined {
  const m = /^\+?(\d+):\+?(\d+)$/.exec(label ?? '');
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : undefined;
}
