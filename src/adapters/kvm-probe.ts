// Whether KVM guests run on a host (doctor): on some hosts /dev/kvm is there and libvirt offers kvm,
// and the firmware runs, but a kernel hangs. On this machine (nested KVM) SeaBIOS prints its banner
// under KVM, and the Debian kernel's decompressor prints "Physical KASLR disabled: no suitable memory
// region!" and then nothing: the kernel proper never starts. So the probe boots a kernel when this
// machine has one (the tiny test guest's, or the running kernel's in /boot) and waits, a bounded
// time, for the kernel's own banner ("Linux version …", printed through earlyprintk); without a
// kernel it can only wait for the firmware's first byte, and says so. The probe is a transient domain
// of its own (flakevirt-doctor-kvm-probe-…, 128 MiB, no disks), destroyed at the end (a transient
// domain is gone once stopped). Local hosts only: the serial log is a file here, written by virtlogd
// (root) into a private temporary directory.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { printable } from '../escape/terminal.js';
import { join } from 'node:path';
import { xmlEscape as x } from '../escape/xml.js';
import type { Libvirt } from './libvirt.js';
import { withTempDir } from './temp-dir.js';

export const PROBE_PREFIX = 'flakevirt-doctor-kvm-probe-';

/** Kernels the probe can boot, in order: the tiny test guest's, the running kernel's. */
export function probeKernels(release: string): string[] {
  return ['/var/cache/flakevirt/tiny-guest/vmlinuz', `/boot/vmlinuz-${release}`, '/boot/vmlinuz'];
}

export function probeXml(name: string, log: string, kernel?: string): string {
  // SeaBIOS prints on the serial port when libvirt sets useserial (-machine graphics=off); the kernel
  // prints its banner there through earlyprintk, and reboots at once (panic=-1) when it has no root.
  const boot = kernel ? `<kernel>${x(kernel)}</kernel><cmdline>console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1</cmdline>` : '';
  return `<domain type='kvm'>
  <name>${x(name)}</name>
  <description>flakevirt doctor: a throwaway probe of whether KVM guests run; removed when the probe ends</description>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type>${boot}<bios useserial='yes'/></os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices><serial type='pty'><log file='${x(log)}' append='off'/></serial><memballoon model='none'/></devices>
</domain>`;
}

export interface ProbeResult {
  /** What was booted: a kernel's path, or the firmware alone. */
  booted: string;
  /** Milliseconds until it printed (the kernel's banner, or the firmware's first byte); undefined: nothing in time. */
  ms?: number;
  /** The last line it printed, when it did not get there. */
  last?: string;
}

export async function kvmProbe(lv: Pick<Libvirt, 'createTransient' | 'destroy'>, timeoutMs = 8000, kernels = probeKernels(release())): Promise<ProbeResult> {
  const kernel = kernels.find((k) => statSync(k, { throwIfNoEntry: false })?.isFile());
  const name = `${PROBE_PREFIX}${randomBytes(4).toString('hex')}`;
  return withTempDir('kvm-probe', async (dir) => {
    const log = join(dir, 'serial.log');
    const t0 = Date.now();
    await lv.createTransient(probeXml(name, log, kernel));
    const text = () => { try { return readFileSync(log, 'latin1'); } catch { return ''; } };
    try {
      while (Date.now() - t0 < timeoutMs) {
        const got = kernel ? /Linux version \d/.test(text()) : (statSync(log, { throwIfNoEntry: false })?.size ?? 0) > 0;
        if (got) return { booted: kernel ?? 'the firmware', ms: Date.now() - t0 };
        await new Promise((r) => setTimeout(r, 100));
      }
      const last = printable(text()).split('\n').map((l) => l.trim()).filter(Boolean).at(-1);
      return { booted: kernel ?? 'the firmware', ...(last && { last }) };
    } finally {
      await lv.destroy(name).catch(() => undefined);
    }
  });
}
