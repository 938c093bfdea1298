// A remote host's guest files as volumes of its storage pool "flakevirt", made and removed through
// libvirt's storage API (virsh over the host's URI), so the host needs nothing but libvirt and sshd.
// Base images, kernels and initrds are uploaded once per host under content-addressed names; an
// upload counts only once its ".complete" marker volume exists, so an interrupted one is redone.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { basename } from 'node:path';
import { run } from './run.js';
import { withTempDir } from './temp-dir.js';
import { ToolError } from '../errors.js';
import type { Host } from '../model.js';
import type { GuestPaths } from '../render/paths.js';
import { parsePool } from '../libvirt-xml/storage.js';
import { BLOB, blobName, completeMarker, isGuestVolume, poolDir, POOL_NAME, renderVolume, volumePaths, type BlobKind, type VolumeSpec } from '../render/volume.js';
import { formatSize } from '../spec/units.js';
import type { ImageInfo } from './disks.js';
import { contentId } from './content-id.js';
import { parseLabel } from './host-facts.js';
import { lockGuest } from './lock.js';
import type { ConsoleChunk, GuestStore, Report } from './store.js';
import type { Virsh } from './virsh.js';

/** Uploads larger than this report progress. */
const REPORT_ABOVE = 16 << 20;

export class VolumeStore implements GuestStore {
  private readonly owner?: { uid: number; gid: number };
  private uploads = new Map<string, Promise<string>>();
  /** The pool's volumes as last listed (each virsh call to a remote host costs a round trip). */
  private listing?: Promise<Map<string, string>>;

  constructor(private readonly virsh: Virsh, private readonly host: Host, qemuLabel: string | undefined) {
    const o = parseLabel(qemuLabel);
    if (o) this.owner = o;
  }

  /** The pool exists, is active and points where the spec says. */
  async ready(): Promise<void> {
    let xml = await this.virsh.poolXml(POOL_NAME);
    if (!xml) {
      await this.virsh.poolCreateDir(POOL_NAME, this.host.pool).catch(async (e) => {
        if (!(await this.virsh.poolXml(POOL_NAME))) throw e; // another run defined it meanwhile
      });
      xml = (await this.virsh.poolXml(POOL_NAME))!;
    }
    const target = parsePool(xml).targetPath;
    if (target !== undefined && poolDir(target) !== poolDir(this.host.pool)) {
      throw new ToolError({ message: `storage pool "${POOL_NAME}" on host ${this.host.name} has its target at ${target}, not ${this.host.pool}; set hosts.${this.host.name}.pool: ${target}, or undefine that pool`, command: `virsh -c ${this.host.connect} pool-dumpxml ${POOL_NAME}` });
    }
    const active = await this.volumes().then(() => true, () => false);
    if (!active) {
      this.listing = undefined;
      // A pool defined earlier (or inherited) whose directory is gone: build makes it, start then works.
      await this.virsh.poolBuild(POOL_NAME);
      await this.virsh.poolStart(POOL_NAME);
    }
  }

  /** Volume name → path, listed once and again after each change this store makes. */
  private volumes(): Promise<Map<string, string>> {
    if (!this.listing) {
      this.listing = this.virsh.volumes(POOL_NAME);
      this.listing.catch(() => (this.listing = undefined));
    }
    return this.listing;
  }

  paths(guest: string): GuestPaths {
    return volumePaths(this.host.pool, guest);
  }

  private path(name: string): string {
    return `${poolDir(this.host.pool)}/${name}`;
  }

  private async create(v: Omit<VolumeSpec, 'owner'>, qemuOwned = true): Promise<void> {
    await this.virsh.volCreate(POOL_NAME, renderVolume({ ...v, ...(qemuOwned && this.owner && { owner: this.owner }) }), v.name);
    this.listing = undefined;
  }

  private async delete(name: string): Promise<void> {
    await this.virsh.volDelete(POOL_NAME, name).catch(async (e) => {
      if ((await this.virsh.volumes(POOL_NAME)).has(name)) throw e;
    });
    this.listing = undefined;
  }

  provide(file: string, kind: BlobKind, format: string | undefined, report: Report): Promise<string> {
    let p = this.uploads.get(file);
    if (!p) {
      p = this.upload(file, kind, format, report);
      this.uploads.set(file, p);
    }
    return p;
  }

  private async upload(file: string, kind: BlobKind, format: string | undefined, report: Report): Promise<string> {
    const name = blobName(kind, await contentId(file), format);
    const seen = await this.volumes();
    if (seen.has(name) && seen.has(completeMarker(name))) return this.path(name);
    const lock = await lockGuest(this.host.connect, `upload-${name}`, { onWait: (pid) => report(`waiting for flakevirt process ${pid}, which uploads ${name} to ${this.host.name}`) });
    try {
      const vols = await this.virsh.volumes(POOL_NAME); // fresh: another run may have uploaded it
      if (vols.has(name) && vols.has(completeMarker(name))) return this.path(name);
      if (vols.has(completeMarker(name))) await this.delete(completeMarker(name));
      if (vols.has(name)) {
        report(`removing ${name} on ${this.host.name}, left incomplete by an interrupted upload`);
        await this.delete(name);
      }
      const size = (await stat(file)).size;
      await this.create({ name, capacityBytes: size, format: 'raw', mode: '0644' });
      await this.stream(file, name, size, report);
      await this.create({ name: completeMarker(name), capacityBytes: 0, format: 'raw', mode: '0644' }, false);
      return this.path(name);
    } finally {
      await lock.release();
    }
  }

  /**
   * Streams the file to `virsh vol-upload` through a FIFO (virsh opens its input by path, and cannot
   * open the socket Node gives a child as stdin), counting bytes for progress on big files.
   */
  private async stream(file: string, name: string, size: number, report: Report): Promise<void> {
    const where = `${name} (${formatSize(size)}) to ${this.host.name}`;
    report(`uploading ${where}`);
    await withTempDir('upload', async (dir) => {
      const fifo = `${dir}/data`;
      await run('mkfifo', ['-m', '600', fifo], 'making the upload FIFO');
      let sent = 0;
      let last = Date.now();
      const child = spawn('virsh', ['-q', '-c', this.virsh.target, 'vol-upload', '--pool', POOL_NAME, name, fifo], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => {
        child.on('exit', (code) => resolve(code));
        child.on('error', () => resolve(null));
      });
      const src = createReadStream(file);
      src.on('data', (chunk) => {
        sent += chunk.length;
        if (size > REPORT_ABOVE && Date.now() - last > 1000) {
          last = Date.now();
          report(`uploading ${where}: ${Math.floor((sent / size) * 100)}%`);
        }
      });
      // If virsh dies before opening the FIFO, opening it for writing would wait for ever: race the exit.
      const copied = pipeline(src, createWriteStream(fifo)).then(() => undefined, (e: Error) => e);
      const code = await exited;
      const copyError = await Promise.race([copied, new Promise<Error>((r) => setTimeout(() => r(new Error('virsh did not read the data')), 100))]);
      if (code !== 0 || copyError || sent !== size) {
        if (copyError && code !== 0) {
          // Unblock a writer still waiting for a reader, so the copy settles.
          await open(fifo, 'r').then((fh) => fh.close(), () => undefined);
        }
        throw new ToolError({ message: `uploading ${where} failed after ${formatSize(sent)}`, command: `virsh -c ${this.host.connect} vol-upload --pool ${POOL_NAME} ${name}`, stderr: stderr || (copyError?.message ?? '') });
      }
    });
  }

  async existing(candidates: string[]): Promise<Set<string>> {
    const have = new Set((await this.volumes()).values());
    return new Set(candidates.filter((c) => have.has(c)));
  }

  async previousDisks(guest: string, paths: GuestPaths): Promise<string[]> {
    const vols = await this.volumes();
    return [...vols].filter(([n, p]) => isGuestVolume(guest, n) && p !== paths.root && p !== paths.console).map(([, p]) => p);
  }

  async prepare(): Promise<void> {
    // Volumes are made whole by libvirt and named by guest: nothing to record first.
  }

  async createOverlay(path: string, base: string, baseInfo: ImageInfo, sizeBytes: number): Promise<void> {
    await this.create({ name: basename(path), capacityBytes: Math.max(sizeBytes, baseInfo.virtualSize), format: 'qcow2', mode: '0600', backing: { path: base, format: baseInfo.format } });
  }

  async createDisk(path: string, format: 'raw' | 'qcow2', sizeBytes: number): Promise<void> {
    // Always qemu's: a remote host's dynamic ownership cannot be assumed for QEMU-argument disks.
    await this.create({ name: basename(path), capacityBytes: sizeBytes, format, mode: '0660' });
  }

  remove(path: string): Promise<void> {
    return this.delete(basename(path));
  }

  async settle(): Promise<void> {}

  async removeGuest(guest: string): Promise<number> {
    await this.virsh.poolRefresh(POOL_NAME); // picks up the console log virtlogd wrote
    this.listing = undefined;
    const names = [...(await this.volumes()).keys()].filter((n) => isGuestVolume(guest, n));
    for (const n of names) await this.delete(n);
    return names.length;
  }

  async readConsole(paths: GuestPaths): Promise<string | undefined> {
    await this.virsh.poolRefresh(POOL_NAME).catch(() => undefined);
    return withTempDir('console', async (dir) => {
      await this.virsh.volDownload(POOL_NAME, basename(paths.console), `${dir}/log`);
      return readFile(`${dir}/log`, 'utf8');
    }).catch(() => undefined);
  }

  async readConsoleFrom(paths: GuestPaths, from: number): Promise<ConsoleChunk | undefined> {
    await this.virsh.poolRefresh(POOL_NAME).catch(() => undefined);
    const get = (offset: number) => withTempDir('console', async (dir) => {
      await this.virsh.volDownload(POOL_NAME, basename(paths.console), `${dir}/log`, offset);
      return (await readFile(`${dir}/log`)).toString('latin1');
    });
    // An offset past the end (the log was started again) fails: then the whole file.
    const text = await get(from).then((t) => ({ t, at: from }), () => get(0).then((t) => ({ t, at: 0 }))).catch(() => undefined);
    return text && { text: text.t, size: text.at + text.t.length };
  }

  async dropUnused(domainFiles: string[]): Promise<string[]> {
    this.listing = undefined;
    const vols = await this.volumes();
    const dropped: string[] = [];
    for (const [name, path] of vols) {
      if (!BLOB.test(name) || domainFiles.some((f) => f.includes(path))) continue;
      await this.delete(completeMarker(name)).catch(() => undefined);
      await this.delete(name);
      dropped.push(name);
    }
    return dropped;
  }
}
