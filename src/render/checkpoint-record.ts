// The record of a guest's checkpoints, kept in its domain's metadata (live and persistent, so it
// lasts across restarts of flakevirt and of the guest, goes with `down`'s undefine, and is gone when
// `up` defines a changed guest from scratch). The checkpoints themselves are internal snapshots in
// the guest's qcow2 files, made and loaded inside the running QEMU (see src/checkpoint.ts).
import { xmlEscape as x } from '../escape/xml.js';
import { bootRecordAttrs, parseBootRecord, type BootRecord } from './boot-record.js';

export const CHECKPOINT_NS = 'http://flakevirt.dev/xmlns/checkpoints/1';
export const CHECKPOINT_KEY = 'fvckpt';

export interface CheckpointRecord {
  /** The user's name for it (`--name`). */
  name: string;
  /** The internal snapshot's tag in every disk of the guest (`fv-<name>-<time>`). */
  tag: string;
  /** Epoch seconds when it was taken. */
  takenAt: number;
  /** The guest definition's fingerprint then: a checkpoint only loads into the same devices. */
  fingerprint: string;
  /** The boot record of the boot it froze (its lease), written back as the live record on reset. */
  boot?: BootRecord;
}

/** The `<checkpoints>` element for `virsh metadata --set` (namespace and prefix come from --uri/--key). */
export function checkpointsXml(records: readonly CheckpointRecord[]): string {
  const one = (r: CheckpointRecord) => `<checkpoint name="${x(r.name)}" tag="${x(r.tag)}" taken="${x(r.takenAt)}" fingerprint="${x(r.fingerprint)}"${r.boot ? bootRecordAttrs(r.boot) : ''}/>`;
  return `<checkpoints>${records.map(one).join('')}</checkpoints>`;
}

/** One record from the attributes of a parsed `<checkpoint>` element ("@_name" …); undefined when malformed. */
export function parseCheckpointRecord(attrs: Record<string, unknown>): CheckpointRecord | undefined {
  const s = (k: string) => (typeof attrs[`@_${k}`] === 'string' ? (attrs[`@_${k}`] as string) : undefined);
  const name = s('name');
  const tag = s('tag');
  const fingerprint = s('fingerprint');
  const takenAt = Number(s('taken'));
  if (!name || !tag || !/^fv-[a-z0-9-]+$/.test(tag) || fingerprint === undefined || !Number.isSafeInteger(takenAt) || takenAt <= 0) return undefined;
  const boot = s('started') !== undefined ? parseBootRecord({ '@_started': s('started'), '@_before': s('before') ?? '', ...(s('lease') && { '@_lease': s('lease') }) }) : undefined;
  return { name, tag, takenAt, fingerprint, ...(boot && { boot }) };
}
