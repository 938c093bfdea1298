// Every domain of this machine's qemu:///system daemon from the files it keeps them in, for commands
// that list domains (list, ips, inventory, health, down, …).
//
// Why not the API: each of libvirt's listings (virConnectListAllDomains, virConnectListDomains,
// virConnectNumOfDomains) locks every domain object in turn, and a domain being destroyed holds its
// lock while its QEMU is killed (up to 10 s when QEMU does not die at once). A `list` then waited for
// another process's `virsh destroy`: 10.4 s here against 0.04 s for a lookup of another domain
// (QEMU stopped with SIGSTOP, then destroyed; test/e2e/libvirt-state.test.ts does it). The files
// need no lock: libvirt replaces them whole (write and rename), so a read sees one version.
//
// Trust: root reads, root-owned files only. /etc/libvirt/qemu is root's; /run/libvirt/qemu belongs
// to the QEMU user (libvirt-qemu), who can put files there: a file not owned by root, linked
// elsewhere too, writable by others, a symlink or not a regular file is not libvirt's and is
// skipped. A file that does not hold the domain its name says (renamed) makes the whole answer
// come from the API instead, as does anything unexpected: undefined means "ask libvirt".
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDomain } from '../libvirt-xml/state-files.js';
import type { DomainView } from './libvirt.js';

export const SYSTEM_STATE = { config: '/etc/libvirt/qemu', status: '/run/libvirt/qemu' };

/** The text of a file libvirt (root) wrote in `dir`; undefined for anything else. */
function rootFile(dir: string, name: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== 0 || st.nlink !== 1 || (st.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Each NAME.xml in `dir` that is libvirt's (rootFile), by NAME. */
function rootXmlFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.xml') || f.length <= 4) continue;
    const text = rootFile(dir, f);
    if (text !== undefined) out.set(f.slice(0, -4), text);
  }
  return out;
}

/** The domains, or undefined when the files cannot answer (not root, no daemon's files, anything unexpected). */
export function stateDomains(dirs = SYSTEM_STATE): DomainView[] | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const conf = lstatSync(dirs.config);
    const run = lstatSync(dirs.status);
    if (!conf.isDirectory() || conf.uid !== 0 || (conf.mode & 0o022) !== 0 || !run.isDirectory()) return undefined;
    // The QEMU driver's own lock file: these are the files of a daemon that has started.
    if (rootFile(dirs.status, 'driver.pid') === undefined) return undefined;
    const status = rootXmlFiles(dirs.status);
    const config = rootXmlFiles(dirs.config);
    const out: DomainView[] = [];
    for (const name of new Set([...config.keys(), ...status.keys()])) {
      const d = stateDomain(name, { ...(status.has(name) && { status: status.get(name)! }), ...(config.has(name) && { config: config.get(name)! }) });
      if (!d) return undefined;
      out.push(d);
    }
    return out;
  } catch {
    return undefined;
  }
}
