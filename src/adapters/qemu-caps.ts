// Reads what the host's QEMU offers (once per emulator binary, cached on disk by its identity).
import { cachedJson, fileIdentity } from './file-cache.js';
import { parseDeviceHelp, parseQemuVersion, type QemuCaps } from '../capabilities.js';
import { run } from './run.js';
import { shellWord } from '../escape/shell.js';
import { jumpOptions } from '../render/jump.js';
import { jumpTarget } from '../hosts.js';
import type { Jump } from '../model.js';

const DEVICES = ['nvme', 'nvme-ns', 'virtio-blk-pci'];

export async function qemuCaps(emulator: string): Promise<QemuCaps> {
  return cachedJson('qemu-props', await fileIdentity(emulator), async () => {
    const version = parseQemuVersion(await run(emulator, ['--version'], `reading the version of ${emulator}`));
    const props: Record<string, string[]> = {};
    for (const dev of DEVICES) {
      props[dev] = parseDeviceHelp(await run(emulator, ['-nodefaults', '-machine', 'none', '-device', `${dev},help`], `listing ${dev} properties`).catch(() => ''));
    }
    return { emulator, version, props };
  });
}

/** The output sections of the remote probe, one per command, apart (a line no QEMU prints). */
const SEPARATOR = '@@flakevirt-qemu-probe@@';

/**
 * The same questions asked of a remote host's QEMU, in one ssh call to the host itself (`jump`, the
 * URI's own user and host). The emulator's path comes from the remote daemon: only a plain absolute
 * path is run, each word one shell word. Undefined when it cannot be asked.
 */
export async function remoteQemuCaps(emulator: string, jump: Jump): Promise<QemuCaps | undefined> {
  if (!/^\/[A-Za-z0-9._+/-]+$/.test(emulator)) return undefined;
  const commands = [[emulator, '--version'], ...DEVICES.map((dev) => [emulator, '-nodefaults', '-machine', 'none', '-device', `${dev},help`])];
  const script = commands.map((c) => `${c.map(shellWord).join(' ')} 2>/dev/null; echo ${SEPARATOR}`).join('; ');
  const out = await run('ssh', [...jumpOptions(jump), '-o', 'ConnectTimeout=10', jumpTarget(jump), '--', script], `asking ${emulator} on ${jump.host} what it offers`, { timeoutMs: 30_000 });
  const parts = out.split(`${SEPARATOR}\n`);
  if (parts.length !== commands.length + 1) return undefined;
  const version = parseQemuVersion(parts[0]!);
  const props: Record<string, string[]> = {};
  DEVICES.forEach((dev, i) => (props[dev] = parseDeviceHelp(parts[i + 1]!)));
  return { emulator, version, props };
}
