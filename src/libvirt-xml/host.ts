// `virsh capabilities` and `virsh domcapabilities`, typed to what flakevirt reads: the DAC label
// qemu runs as, the domain type, the emulator binary and the disk buses libvirt knows.
import { attr, child, children, parseXml, text } from './tree.js';

export interface Capabilities {
  /** The DAC security model's base label per domain type ("+64055:+64055"), when DAC is on. */
  dacLabels: { kvm?: string; qemu?: string };
}

export interface DomainCapabilities {
  /** The emulator binary (<path>). */
  emulator?: string;
  /** The domain type these capabilities are for (<domain>): kvm or qemu. */
  domainType?: string;
  /** Buses a <disk> may use, when disks are supported. */
  diskBuses: string[];
}

export function parseCapabilities(xml: string): Capabilities {
  const host = child(parseXml(xml).capabilities, 'host');
  const dac = children(host, 'secmodel').find((s) => text(s, 'model') === 'dac');
  const labels: Capabilities['dacLabels'] = {};
  for (const l of children(dac, 'baselabel')) {
    const type = attr(l, 'type');
    const value = text(l);
    if ((type === 'kvm' || type === 'qemu') && value && labels[type] === undefined) labels[type] = value;
  }
  return { dacLabels: labels };
}

export function parseDomainCapabilities(xml: string): DomainCapabilities {
  const root = parseXml(xml).domainCapabilities;
  const disk = child(child(root, 'devices'), 'disk');
  const buses = attr(disk, 'supported') === 'yes' ? children(disk, 'enum').find((e) => attr(e, 'name') === 'bus') : undefined;
  const emulator = text(root, 'path');
  const domainType = text(root, 'domain');
  return {
    ...(emulator && { emulator }),
    ...(domainType && { domainType }),
    diskBuses: children(buses, 'value').map((v) => text(v) ?? ''),
  };
}
