// Reads what the host's QEMU offers (once per emulator binary and version, cached on disk).
import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { cacheDir, ownDir, writeOwnFile } from './private-dir.js';
import { join } from 'node:path';
import { parseDeviceHelp, parseQemuVersion, type QemuCaps } from '../capabilities.js';
import { run } from './run.js';

const DEVICES = ['nvme', 'nvme-ns', 'virtio-blk-pci'];

function capsDir(): string {
  return join(cacheDir(), 'qemu-caps');
}

export async function qemuCaps(emulator: string): Promise<QemuCaps> {
  const st = await stat(emulator);
  const key = createHash('sha256').update(`${emulator}:${st.size}:${st.mtimeMs}`).digest('hex').slice(0, 16);
  const file = join(capsDir(), `${key}.json`);
  // Only a cache in a directory of flakevirt's own is believed (a planted one would change refusals).
  const trusted = (() => { try { ownDir(capsDir(), 0o755); return true; } catch { return false; } })();
  const cached = trusted ? await readFile(file, 'utf8').then((t) => JSON.parse(t) as QemuCaps, () => undefined) : undefined;
  if (cached) return cached;
  const version = parseQemuVersion(await run(emulator, ['--version'], `reading the version of ${emulator}`));
  const props: Record<string, string[]> = {};
  for (const dev of DEVICES) {
    props[dev] = parseDeviceHelp(await run(emulator, ['-nodefaults', '-machine', 'none', '-device', `${dev},help`], `listing ${dev} properties`).catch(() => ''));
  }
  const caps: QemuCaps = { emulator, version, props };
  if (trusted) await writeOwnFile(file, JSON.stringify(caps)).catch(() => undefined);
  return caps;
}
