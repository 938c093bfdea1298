// The record of one boot, kept in the running domain's *live* metadata: libvirt drops live-only
// metadata when the domain stops, so a record always belongs to the boot that is running now.
// `up` writes it right after starting a guest (start time and the leases seen before) and again when
// the lease of this boot came (the IP). A running guest without a lease in its record has not been
// confirmed up: the next `up` waits for its lease instead of reporting a previous boot's.
import { xmlEscape as x } from '../escape/xml.js';

export const BOOT_NS = 'http://flakevirt.dev/xmlns/boot/1';
export const BOOT_KEY = 'fvboot';

export interface BootRecord {
  /** Epoch seconds just before the start. */
  startedAt: number;
  /** The guest MAC's leases (IP → expiry) listed just before the start. */
  before: Map<string, number>;
  /** The IP of this boot's lease, once seen. */
  lease?: string;
  /**
   * Where this boot's part of the console log starts (bytes). A start truncates the log (append
   * off), so 0 unless set: a reset to a checkpoint goes on in the same file, from its size then.
   */
  logFrom?: number;
}

/** A record's attributes (` started="…" before="…" lease="…"`), escaped: the `<boot>` element's, and a checkpoint's. */
export function bootRecordAttrs(r: BootRecord): string {
  const before = [...r.before].map(([ip, expiry]) => `${ip}=${expiry}`).join(' ');
  return ` started="${x(r.startedAt)}" before="${x(before)}"${r.lease ? ` lease="${x(r.lease)}"` : ''}${r.logFrom ? ` log="${x(r.logFrom)}"` : ''}`;
}

/** The `<boot>` element for `virsh metadata --set` (namespace and prefix come from --uri/--key). */
export function bootRecordXml(r: BootRecord): string {
  return `<boot${bootRecordAttrs(r)}/>`;
}

/** Reads a record back from the attributes of the parsed `<boot>` element; undefined when malformed. */
export function parseBootRecord(attrs: Record<string, unknown>): BootRecord | undefined {
  const started = Number(attrs['@_started']);
  if (!Number.isSafeInteger(started) || started <= 0) return undefined;
  const before = new Map<string, number>();
  for (const pair of String(attrs['@_before'] ?? '').split(' ').filter(Boolean)) {
    const m = /^([0-9a-fA-F.:]+)=(\d+)$/.exec(pair);
    if (!m) return undefined;
    before.set(m[1]!, Number(m[2]));
  }
  const lease = attrs['@_lease'];
  const log = Number(attrs['@_log'] ?? 0);
  if (!Number.isSafeInteger(log) || log < 0) return undefined;
  return { startedAt: started, before, ...(typeof lease === 'string' && lease && { lease }), ...(log > 0 && { logFrom: log }) };
}
