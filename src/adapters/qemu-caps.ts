// Reads what the host's QEMU offers (once per emulator binary and version, cached on disk).
import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseDeviceHelp, parseQemuVersion, type QemuCaps } from '../capabilities.js';
import { run } from './run.js';

const DEVICES = ['nvme', 'nvme-ns', 'virtio-blk-pci'];

function cacheDir(): string {
  return process.getuid?.() === 0 ? '/var/cache/flakevirt/qemu-caps' : join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'flakevirt', 'qemu-caps');
}

export async function qemuCaps(emulator: string): Promise<QemuCaps> {
  const st = await stat(emulator);
  const key = createHash('sha256').update(`${emulator}:${st.size}:${st.mtimeMs}`).digest('hex').slice(0, 16);
  const file = join(cacheDir(), `${key}.json`);
  const cached = await readFile(file, 'utf8').then((t) => JSON.parse(t) as QemuCaps, () => undefined);
  if (cached) return cached;
  const version = parseQemuVersion(await run(emulator, ['--version'], `reading the version of ${emulator}`));
  const props: Record<string, string[]> = {};
  for (const dev of DEVICES) {
    props[dev] = parseDeviceHelp(await run(emulator, ['-nodefaults', '-machine', 'none', '-device', `${dev},help`], `listing ${dev} properties`).catch(() => ''));
  }
  const caps: QemuCaps = { emulator, version, props };
  await mkdir(cacheDir(), { recursive: true }).then(() => writeFile(file, JSON.stringify(caps)), () => undefined);
  return caps;
}
