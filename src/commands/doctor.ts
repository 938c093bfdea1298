// flakevirt doctor [--host NAME…] [--json]: what each host offers against what the spec needs, one
// line per check with ok/warn/fail and the fix. It reads and probes; it creates nothing (the KVM
// probe starts a transient domain of its own and destroys it). Exit 0 when every check the spec
// needs passes, 1 otherwise.
import { spawn } from 'node:child_process';
import type { Fleet, Guest, Host } from '../model.js';
import { doctorExit, doctorText, poolVerdict, versionAtLeast, type Check } from '../doctor.js';
import { kindOf } from '../host-kinds/kind.js';
import { bootKindOf } from '../boot-kinds/kind.js';
import { checkCapabilities } from '../capabilities.js';
import { jumpTarget } from '../hosts.js';
import { jumpOptions } from '../render/jump.js';
import { SpecError, ToolError } from '../errors.js';
import { hostsFor, loadFleetIfAny, printJson, type GlobalOptions } from './context.js';
import { Hosts, placeFleet } from './hosts.js';
import type { Session } from './session.js';

/** What a guest's disks can grow to on its host: its root disk and every extra disk. */
const guestBytes = (g: Guest) => (bootKindOf(g.boot).rootDisk ? g.diskSizeBytes : 0) + g.disks.reduce((a, d) => a + d.sizeBytes, 0);

export async function doctorCommand(opts: GlobalOptions): Promise<void> {
  const fleet = (await loadFleetIfAny(opts))?.fleet;
  const selected = hostsFor(opts, fleet);
  const hosts = await Hosts.open(selected, fleet);
  const checks: Check[] = [];
  try {
    // Which guests go where: what placement would decide now (nothing is recorded).
    let on = new Map<string, Guest[]>();
    if (fleet) {
      try {
        const { placement } = await placeFleet(fleet, hosts, { save: false });
        for (const g of fleet.guests) {
          const h = placement.hostOf.get(g.name);
          if (h) on.set(h, [...(on.get(h) ?? []), g]);
        }
      } catch (e) {
        if (!(e instanceof SpecError)) throw e;
        checks.push({ host: selected.map((h) => h.name).join(','), check: 'memory', state: 'fail', detail: e.message.split('\n')[0]!, fix: e.issues.map((i) => i.message).join('; '), needed: true });
        on = new Map(selected.map((h) => [h.name, fleet.guests.filter((g) => !g.host || g.host === h.name)]));
      }
    }
    for (const l of hosts.links) {
      const guests = on.get(l.host.name) ?? [];
      checks.push(...(await hostChecks(l.host, l.session, l.error, guests, fleet)));
    }
    // The controller's own tools: nix for the guests it builds.
    const built = (fleet?.guests ?? []).filter((g) => bootKindOf(g.boot).nixBuilt);
    checks.push(await nixCheck(built.length > 0));
  } finally {
    await hosts.close();
  }
  process.exitCode = doctorExit(checks);
  if (opts.json) return printJson(checks);
  process.stdout.write(doctorText(checks));
}

async function hostChecks(host: Host, s: Session | undefined, error: Error | undefined, guests: Guest[], fleet: Fleet | undefined): Promise<Check[]> {
  const c = (check: string, needed: boolean, r: Pick<Check, 'state' | 'detail' | 'fix'>): Check => ({ host: host.name, check, needed, ...r });
  if (!s) {
    return [c('libvirt', true, { state: 'fail', detail: `cannot connect to ${host.connect}: ${(error?.message ?? 'unknown error').split('\n')[0]}`, fix: kindOf(host).connectFix(host) })];
  }
  const out: Check[] = [];
  const version = await s.lv.virsh.version().catch(() => ({ daemon: '', hypervisor: '' }));
  out.push(c('libvirt', true, { state: 'ok', detail: `${version.daemon ? `libvirt ${version.daemon}` : 'reachable'} at ${host.connect}${version.hypervisor ? `, ${version.hypervisor}` : ''}` }));
  const info = await s.info();
  // QEMU and the NVMe and virtio-blk properties it offers (what the storage DSL can use there).
  let probeError = '';
  const caps = info.emulator ? await kindOf(host).qemuCaps(info.emulator, host).catch((e: Error) => void (probeError = e instanceof ToolError && e.stderr ? e.stderr.trim().split('\n')[0]! : e.message)) : undefined;
  if (!caps) {
    const why = probeError ? `could not ask it (${probeError})` : 'not inspected from here';
    out.push(c('qemu', false, { state: 'warn', detail: info.emulator ? `${info.emulator}: ${why}; libvirt checks the disks when a guest starts` : 'libvirt names no emulator', ...(!info.emulator && { fix: 'install qemu-system-x86' }) }));
  } else {
    const issues = checkCapabilities(guests, caps);
    const nvme = caps.props['nvme'] ?? [];
    const ns = caps.props['nvme-ns'] ?? [];
    const offers = nvme.length ? `NVMe: ${['mdts', 'atomic.awun', 'atomic.awupf', 'atomic.dn'].filter((p) => nvme.includes(p)).join(', ') || 'no mdts/atomics'}; namespaces: ${['logical_block_size', 'zoned', 'atomic.nawun', 'atomic.nawupf'].filter((p) => ns.includes(p)).map((p) => p.replace('logical_block_size', 'block sizes')).join(', ') || 'basic'}` : 'no NVMe device';
    out.push(c('qemu', guests.length > 0, issues.length
      ? { state: 'fail', detail: `QEMU ${caps.version} (${caps.emulator}): ${offers}`, fix: issues.map((i) => `${i.path}: ${i.message}`).join('; ') }
      : { state: 'ok', detail: `QEMU ${caps.version} (${caps.emulator}): ${offers}` }));
  }
  out.push(await kvmCheck(host, s, info.kvm, guests, fleet));
  const network = fleet?.network ?? 'default';
  const net = await s.lv.virsh.networkInfo(network).catch((e: Error) => ({ error: e.message }));
  out.push(c('network', true, 'error' in net
    ? { state: 'fail', detail: `cannot read network ${network}: ${net.error.split('\n')[0]}` }
    : !net.exists
      ? { state: 'fail', detail: `no network named ${network}`, fix: `define it (virsh net-define /usr/share/libvirt/networks/default.xml && virsh net-autostart ${network}), or set network: in the spec` }
      : net.active ? { state: 'ok', detail: `${network} is active${net.bridge ? ` (bridge ${net.bridge})` : ''}` } : { state: 'warn', detail: `${network} is defined but not active: up starts it`, fix: `virsh net-start ${network} && virsh net-autostart ${network}` }));
  out.push(c('pool', guests.length > 0, await poolCheck(host, s, guests)));
  const imageless = guests.filter((g) => bootKindOf(g.boot).ownKernel(g.boot));
  const runsImageless = kindOf(host).runsImageless;
  if (imageless.length || runsImageless) {
    const { findVirtiofsd, VIRTIOFSD_FIX } = await import('../adapters/virtiofsd.js');
    const v = runsImageless ? await findVirtiofsd() : undefined;
    out.push(c('virtiofsd', imageless.length > 0, v ? { state: 'ok', detail: v } : { state: imageless.length ? 'fail' : 'warn', detail: runsImageless ? 'not found (imageless guests need it)' : 'imageless guests run on local hosts only', fix: VIRTIOFSD_FIX }));
  }
  if (host.jump) out.push(c('ssh', guests.length > 0, await jumpCheck(host)));
  return out;
}

async function kvmCheck(host: Host, s: Session, offered: boolean, guests: Guest[], fleet: Fleet | undefined): Promise<Check> {
  const wants = guests.filter((g) => g.accel === 'kvm' || (g.accel === 'auto' && offered));
  const needed = wants.length > 0;
  const c = (r: Pick<Check, 'state' | 'detail' | 'fix'>): Check => ({ host: host.name, check: 'kvm', needed, ...r });
  if (!offered) {
    const forced = guests.filter((g) => g.accel === 'kvm');
    return forced.length
      ? c({ state: 'fail', detail: 'libvirt offers no kvm domains here', fix: `set accel: tcg (or auto) for ${forced.map((g) => g.name).join(', ')}, or enable KVM (the kvm module, /dev/kvm)` })
      : c({ state: 'ok', detail: 'not offered: guests run under TCG (slower, but they run)' });
  }
  if (!kindOf(host).probesKvm) return c({ state: 'warn', detail: 'offered; not probed (the probe reads a log file on this machine)' });
  if (!needed && fleet) return c({ state: 'ok', detail: 'offered; no guest here uses it' });
  const { kvmProbe } = await import('../adapters/kvm-probe.js');
  const p = await kvmProbe(s.lv).catch((e: Error) => e);
  const fix = `set accel: tcg in the spec${wants.length ? ` (for ${wants.map((g) => g.name).join(', ')})` : ''}`;
  if (p instanceof Error) return c({ state: 'fail', detail: `the probe guest did not start: ${p.message.split('\n')[0]}`, fix });
  const firmwareOnly = p.booted === 'the firmware';
  if (p.ms !== undefined) return c({ state: firmwareOnly ? 'warn' : 'ok', detail: firmwareOnly ? `a KVM probe guest ran its firmware (after ${p.ms} ms); no kernel here to try, so a kernel that hangs under KVM would not show` : `a KVM probe guest booted ${p.booted} to its banner in ${p.ms} ms` });
  return c({ state: 'fail', detail: `a KVM probe guest booting ${p.booted} printed ${firmwareOnly ? 'nothing' : 'no kernel banner'} within 8 s${p.last ? ` (last: ${JSON.stringify(p.last.slice(0, 100))})` : ''}: KVM guests hang on this host`, fix });
}

async function poolCheck(host: Host, s: Session, guests: Guest[]): Promise<Pick<Check, 'state' | 'detail' | 'fix'>> {
  const need = guests.reduce((a, g) => a + guestBytes(g), 0);
  const space = await kindOf(host).poolSpace(host, s.lv).catch((e: Error) => ({ notYet: `cannot tell: ${e.message.split('\n')[0]}` }));
  return 'notYet' in space ? { state: 'warn', detail: space.notYet } : poolVerdict(space.freeBytes, need, space.where);
}

function jumpCheck(host: Host): Promise<Pick<Check, 'state' | 'detail' | 'fix'>> {
  const j = host.jump!;
  return new Promise((resolve) => {
    const p = spawn('ssh', [...jumpOptions(j), '-o', 'ConnectTimeout=5', jumpTarget(j), 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill(), 15000);
    p.on('error', () => resolve({ state: 'fail', detail: 'ssh is not installed', fix: 'install openssh-client' }));
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0
        ? { state: 'ok', detail: `ssh to ${jumpTarget(j)} works: guests there are reached through it` }
        : { state: 'fail', detail: `ssh to ${jumpTarget(j)} failed${err.trim() ? `: ${err.trim().split('\n')[0]}` : ''}`, fix: `ssh, the inventory and ssh-config reach ${host.name}'s guests through ${jumpTarget(j)}: make "ssh ${jumpTarget(j)} true" work for this user` });
    });
  });
}

async function nixCheck(needed: boolean): Promise<Check> {
  const c = (r: Pick<Check, 'state' | 'detail' | 'fix'>): Check => ({ host: 'controller', check: 'nix', needed, ...r });
  const { nixVersion } = await import('../adapters/nix.js');
  const v = await nixVersion().then((t) => /(\d+\.\d+(?:\.\d+)?)/.exec(t)?.[1] ?? t, () => undefined);
  if (!v) return c({ state: needed ? 'fail' : 'warn', detail: 'nix is not installed: guests without image: cannot be built', fix: 'install nix (apt install nix-bin, or the installer at nixos.org)' });
  // flakevirt passes --extra-experimental-features 'nix-command flakes' itself: nix must know them.
  return versionAtLeast(v, '2.4')
    ? c({ state: 'ok', detail: `nix ${v} (flakes: flakevirt enables them per call)` })
    : c({ state: needed ? 'fail' : 'warn', detail: `nix ${v} is older than 2.4, which has no flakes`, fix: 'install a nix of 2.4 or later' });
}
