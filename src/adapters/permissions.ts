// Preflight: can qemu (libvirt's DAC user) read a file that flakevirt will not relabel?
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SpecError } from '../errors.js';
import { parseLabel } from './host-facts.js';

type Who = { uid: number; gid: number };

/** Whether `who` gets permission `bit` (4 read, 1 search) on a file, by its other, owner or group bits. */
function permits(st: { mode: number; uid: number; gid: number }, who: Who, bit: number): boolean {
  return (st.mode & bit) !== 0 || (st.uid === who.uid && (st.mode & (bit << 6)) !== 0) || (st.gid === who.gid && (st.mode & (bit << 3)) !== 0);
}

/** Throws a SpecError naming the path and the fix when qemu could not open `file`. */
export async function checkQemuCanRead(file: string, label: string | undefined, guest: string): Promise<void> {
  const who = parseLabel(label);
  if (!who || who.uid === 0) return; // qemu runs as root: nothing to check
  const st = await stat(file);
  if (!permits(st, who, 0o4)) {
    throw new SpecError([{ path: `guests.${guest}`, message: `${file} is not readable by qemu (uid ${who.uid}); flakevirt does not relabel shared base files: run "chmod o+r ${file}"` }], 'qemu cannot read a file');
  }
  await checkQemuCanReach(dirname(file), label, `guests.${guest}`);
}

/** Throws a SpecError when qemu could not traverse `dir` and every directory above it. */
export async function checkQemuCanReach(dir: string, label: string | undefined, specPath: string): Promise<void> {
  const who = parseLabel(label);
  if (!who || who.uid === 0) return;
  for (let d = dir; d !== '/'; d = dirname(d)) {
    const st = await stat(d);
    if (!permits(st, who, 0o1)) {
      throw new SpecError([{ path: specPath, message: `qemu (uid ${who.uid}) cannot reach ${dir}: directory ${d} is not searchable; run "chmod o+x ${d}" or choose another directory` }], 'qemu cannot reach a directory');
    }
  }
}
