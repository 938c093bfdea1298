// Disk files: qcow2 overlays on a base image, raw and qcow2 extra disks. Every file is created
// under a temporary name and renamed into place, so a crash never leaves a half-made disk.
import { open, rename, rm, chmod, chown, lstat } from 'node:fs/promises';
import { run } from './run.js';
import { cachedJson, fileIdentity } from './file-cache.js';

export interface ImageInfo {
  format: string;
  virtualSize: number;
  backing?: string;
}

/**
 * `qemu-img info` of a base image (format, virtual size, its own backing file if any), kept per file
 * identity (inode, size, change times): base images do not change, and a no-op `up` then runs no
 * qemu-img at all.
 */
export async function imageInfo(path: string): Promise<ImageInfo> {
  return cachedJson('image-info', await fileIdentity(path), async () => {
    const out = await run('qemu-img', ['info', '--output=json', '-U', path], `reading image ${path}`);
    const j = JSON.parse(out) as { format: string; 'virtual-size': number; 'backing-filename'?: string };
    return { format: j.format, virtualSize: j['virtual-size'], ...(j['backing-filename'] && { backing: j['backing-filename'] }) };
  });
}

/**
 * Guest disks are readable by their owner only: root, and qemu's user once libvirt (or flakevirt,
 * for files named only in QEMU arguments) hands a disk to it. No other local user reads a guest's data.
 */
export const DISK_MODE = 0o600;

function tmpName(path: string): string {
  return `${path}.partial-${process.pid}`;
}

/** A qcow2 overlay whose backing file is `base` (format recorded with -F): O(1) whatever the base size. */
export async function createOverlay(path: string, base: string, baseInfo: ImageInfo, sizeBytes: number): Promise<void> {
  const tmp = tmpName(path);
  const size = Math.max(sizeBytes, baseInfo.virtualSize);
  try {
    await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', baseInfo.format, tmp, String(size)], `creating root overlay ${path}`);
    await chmod(tmp, DISK_MODE);
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** An extra disk: raw files are sparse (ftruncate), qcow2 ones come from qemu-img. */
export async function createDisk(path: string, format: 'raw' | 'qcow2', sizeBytes: number, owner?: { uid: number; gid: number }): Promise<void> {
  const tmp = tmpName(path);
  try {
    if (format === 'raw') {
      const fh = await open(tmp, 'wx', DISK_MODE);
      try {
        await fh.truncate(sizeBytes);
      } finally {
        await fh.close();
      }
    } else {
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', tmp, String(sizeBytes)], `creating disk ${path}`);
      await chmod(tmp, DISK_MODE);
    }
    if (owner) await chown(tmp, owner.uid, owner.gid);
    await rename(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
}

export async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}
