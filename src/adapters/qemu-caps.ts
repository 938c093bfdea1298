// Reads what the host's QEMU offers (once per emulator binary, cached on disk by its identity).
import { cachedJson, fileIdentity } from './file-cache.js';
import { parseDeviceHelp, parseQemuVersion, type QemuCaps } from '../capabilities.js';
import { run } from './run.js';

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
