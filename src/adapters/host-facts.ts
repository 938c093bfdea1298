// What the libvirt host offers: KVM or not, libvirt's own NVMe bus or not, qemu's DAC user.
import type { Accel } from '../model.js';
import type { HostFacts } from '../render/state.js';
import type { Libvirt } from './libvirt.js';

export interface HostInfo {
  kvm: boolean;
  nativeNvme: boolean;
  /** "+64055:+64055" from `virsh capabilities`, when the DAC driver is on. */
  qemuLabel?: string;
  /** The emulator binary libvirt runs (domcapabilities <path>). */
  emulator?: string;
}

export async function readHostInfo(lv: Libvirt): Promise<HostInfo> {
  const [caps, kvmCaps, qemuCaps] = await Promise.all([
    lv.virsh.capabilities(),
    lv.virsh.domCapabilities('kvm').catch(() => ''),
    lv.virsh.domCapabilities('qemu').catch(() => ''),
  ]);
  const domcaps = kvmCaps || qemuCaps;
  return {
    kvm: /<domain>kvm<\/domain>/.test(kvmCaps),
    nativeNvme: /<disk supported='yes'>[\s\S]*?<enum name='bus'>[\s\S]*?<value>nvme<\/value>[\s\S]*?<\/enum>/.test(domcaps),
    ...parseDacLabel(caps),
    ...emulatorOf(domcaps),
  };
}

function emulatorOf(domcaps: string): { emulator?: string } {
  const path = /<path>([^<]+)<\/path>/.exec(domcaps)?.[1];
  return path ? { emulator: path } : {};
}

/** The DAC base label for kvm (else qemu) domains from capabilities XML. */
export function parseDacLabel(caps: string): { qemuLabel?: string } {
  const dac = /<secmodel>\s*<model>dac<\/model>[\s\S]*?<\/secmodel>/.exec(caps)?.[0] ?? '';
  const label = /<baselabel type='kvm'>([^<]+)<\/baselabel>/.exec(dac)?.[1] ?? /<baselabel type='qemu'>([^<]+)<\/baselabel>/.exec(dac)?.[1];
  return label ? { qemuLabel: label } : {};
}

/** The facts one guest's XML is rendered with. Native NVMe only when nothing QEMU-specific is asked. */
export function factsFor(info: HostInfo, accel: Accel, needsQemuNvme: boolean): HostFacts {
  const domainType = accel === 'tcg' ? 'qemu' : accel === 'kvm' ? 'kvm' : info.kvm ? 'kvm' : 'qemu';
  return { domainType, nvme: info.nativeNvme && !needsQemuNvme ? 'native' : 'commandline', ...(info.qemuLabel && { qemuLabel: info.qemuLabel }) };
}

/** "+64055:+64055" → { uid: 64055, gid: 64055 }. */
export function parseLabel(label: string | undefined): { uid: number; gid: number } | undefined {
  const m = /^\+?(\d+):\+?(\d+)$/.exec(label ?? '');
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : undefined;
}
