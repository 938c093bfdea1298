// libvirt network XML (`virsh net-dumpxml`, and the live status file /run/libvirt/network/NAME.xml,
// whose <network> sits inside <networkstatus>), typed to what flakevirt reads.
import { attr, child, children, parseXml, type XmlNode } from './tree.js';

export interface Network {
  /** <bridge name>. */
  bridge?: string;
  /** The DHCP lease time in seconds a <range><lease expiry unit> sets (libvirt ≥ 6.3). */
  leaseSeconds?: number;
}

const UNIT_SECONDS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600 };

export function parseNetwork(xml: string): Network {
  const tree = parseXml(xml);
  const net: XmlNode | undefined = child(tree, 'network') ?? child(child(tree, 'networkstatus'), 'network');
  const bridge = attr(child(net, 'bridge'), 'name');
  let leaseSeconds: number | undefined;
  for (const ip of children(net, 'ip')) {
    for (const range of children(child(ip, 'dhcp'), 'range')) {
      const lease = child(range, 'lease');
      const expiry = attr(lease, 'expiry');
      if (leaseSeconds === undefined && expiry !== undefined && /^\d+$/.test(expiry)) {
        leaseSeconds = Number(expiry) * (UNIT_SECONDS[attr(lease, 'unit') ?? 'minutes'] ?? 60);
      }
    }
  }
  return { ...(bridge && { bridge }), ...(leaseSeconds !== undefined && { leaseSeconds }) };
}
