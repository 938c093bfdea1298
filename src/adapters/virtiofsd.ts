// virtiofsd on a local host: the one list of where distributions put it. libvirt runs it for each
// virtiofs share; flakevirt names it in <binary path> so a host without QEMU's vhost-user
// descriptor for it still works, and refuses imageless guests before anything is defined when
// there is none.
import { access, constants } from 'node:fs/promises';

/**
 * Debian trixie and Ubuntu 24.04 (/usr/libexec), Fedora (/usr/libexec), older QEMU packages
 * (/usr/lib/qemu), a PATH install, and the wrapper scripts/install-virtiofsd.sh writes on bookworm.
 */
export const VIRTIOFSD_CANDIDATES = ['/usr/libexec/virtiofsd', '/usr/lib/qemu/virtiofsd', '/usr/bin/virtiofsd', '/usr/local/libexec/flakevirt-virtiofsd'] as const;

/** The first executable candidate, or undefined. */
export async function findVirtiofsd(candidates: readonly string[] = VIRTIOFSD_CANDIDATES): Promise<string | undefined> {
  for (const c of candidates) if (await access(c, constants.X_OK).then(() => true, () => false)) return c;
  return undefined;
}

export const VIRTIOFSD_FIX = 'install virtiofsd on this host: apt install virtiofsd (Debian trixie, Ubuntu 24.04), dnf install virtiofsd (Fedora), or on Debian bookworm scripts/install-virtiofsd.sh (trixie\'s virtiofsd with its own loader)';
