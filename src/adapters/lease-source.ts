// The two places leases come from (which one a host uses is its kind's choice, host-kinds/):
// libvirt's dnsmasq status file, watched with inotify so a new lease is seen within milliseconds,
// or `virsh net-dhcp-leases`, polled.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, access, constants } from 'node:fs/promises';
import { parseStatusFile, parseVirshLeases, type Lease } from '../leases.js';
import type { Libvirt } from './libvirt.js';

export const DNSMASQ_DIR = '/var/lib/libvirt/dnsmasq';

export interface LeaseSource {
  readonly kind: 'status-file' | 'virsh';
  read(): Promise<Lease[]>;
  /** Calls `cb` whenever leases may have changed (status file written); returns an unsubscribe. */
  watch(cb: () => void): () => void;
}

/** dnsmasq's status file for the bridge, when this machine can read it (else undefined). */
export async function statusFileLeases(bridge: string): Promise<LeaseSource | undefined> {
  if (!bridge || !(await access(DNSMASQ_DIR, constants.R_OK).then(() => true, () => false))) return undefined;
  const file = `${DNSMASQ_DIR}/${bridge}.status`;
  return {
    kind: 'status-file',
    read: async () => {
      try {
        return parseStatusFile(await readFile(file, 'utf8'));
      } catch {
        return []; // missing, or caught mid-rewrite: the next change event reads it again
      }
    },
    watch: (cb) => {
      let w: FSWatcher | undefined;
      try {
        w = watch(DNSMASQ_DIR, (_e, name) => {
          if (!name || String(name).startsWith(bridge)) cb();
        });
      } catch {
        return () => undefined;
      }
      return () => w?.close();
    },
  };
}

/** `virsh net-dhcp-leases`, polled: works over any connection. */
export function virshLeases(lv: Libvirt, network: string): LeaseSource {
  return {
    kind: 'virsh',
    read: async () => parseVirshLeases(await lv.virsh.leases(network)),
    watch: () => () => undefined,
  };
}
