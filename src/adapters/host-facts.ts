// What the libvirt host offers: KVM or not, libvirt's own NVMe bus or not, qemu's DAC user.
import type { HostInfo } from '../render/state.js';
import type { Libvirt } from './libvirt.js';
import { parseCapabilities, parseDomainCapabilities } from '../libvirt-xml/host.js';

export type { HostInfo } from '../render/state.js';

export async function readHostInfo(lv: Libvirt): Promise<HostInfo> {
  const [caps, kvmCaps, qemuCaps] = await Promise.all([
    lv.virsh.capabilities(),
    lv.virsh.domCapabilities('kvm').catch(() => ''),
    lv.virsh.domCapabilities('qemu').catch(() => ''),
  ]);
  const kvm = kvmCaps ? parseDomainCapabilities(kvmCaps) : undefined;
  const domcaps = kvm ?? (qemuCaps ? parseDomainCapabilities(qemuCaps) : undefined);
  const emulator = domcaps?.emulator;
  return {
    kvm: kvm?.domainType === 'kvm',
    nativeNvme: domcaps?.diskBuses.includes('nvme') ?? false,
    ...parseDacLabel(caps),
    ...(emulator && { emulator }),
  };
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
