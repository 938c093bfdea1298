// Where a host keeps a guest's disks: files in a directory (a local host) or volumes in the
// storage pool "flakevirt" (a remote host, through libvirt's storage API). Commands use only this.
import type { GuestPaths } from '../render/paths.js';
import type { BlobKind } from '../render/volume.js';
import type { ImageInfo } from './disks.js';

export type Report = (line: string) => void;

export interface ConsoleChunk {
  text: string;
  /** The file's size now. */
  size: number;
  /** Device, inode and change time when the host can say (a local file): a rotated or rewritten log is another file. */
  id?: string;
  mtimeMs?: number;
}

export interface GuestStore {
  /** Before a host's first guest is made: the place for its disks exists and qemu can use it. */
  ready(): Promise<void>;
  paths(guest: string): GuestPaths;
  /** Makes sure the host has this local file (base image, kernel, initrd); returns the path qemu opens there. */
  provide(file: string, kind: BlobKind, format: string | undefined, report: Report): Promise<string>;
  /** Which of these paths exist on the host. */
  existing(candidates: string[]): Promise<Set<string>>;
  /** Extra-disk files the guest has there now (to delete the ones the spec dropped). */
  previousDisks(guest: string, paths: GuestPaths): Promise<string[]>;
  /** Before creating anything: record what the guest owns, clear what interrupted runs left. */
  prepare(guest: string, paths: GuestPaths, files: string[], report: Report): Promise<void>;
  createOverlay(path: string, base: string, baseInfo: ImageInfo, sizeBytes: number): Promise<void>;
  /** `qemuOwned`: the file is named only in QEMU arguments, so libvirt will not hand it to qemu's user. */
  createDisk(path: string, format: 'raw' | 'qcow2', sizeBytes: number, qemuOwned: boolean): Promise<void>;
  remove(path: string): Promise<void>;
  /** After converging: the guest owns exactly these files. */
  settle(guest: string, paths: GuestPaths, files: string[]): Promise<void>;
  /** `down`: removes everything of the guest's; returns how many files. `dir` comes from the domain's metadata. */
  removeGuest(guest: string, dir?: string): Promise<number>;
  readConsole(paths: GuestPaths): Promise<string | undefined>;
  /** The console log from byte `from` on (latin1: a character per byte), its size, and what identifies the file when the host can say. */
  readConsoleFrom(paths: GuestPaths, from: number): Promise<ConsoleChunk | undefined>;
  /** Removes shared images (GC roots, uploaded blobs) none of these files (every domain's, libvirt-xml domainFiles) uses; returns what went. */
  dropUnused(domainFiles: string[]): Promise<string[]>;
}
