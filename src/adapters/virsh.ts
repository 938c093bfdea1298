// libvirt through virsh, for what the binding lacks: networks, DHCP leases, capabilities, console.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { run } from './run.js';
import { withTempDir } from './temp-dir.js';
import { muxUri } from '../hosts.js';
import { packagePath } from '../package-root.js';
import { monitorCommand, type MonitorCommand } from '../checkpoint.js';

/** The ssh wrapper that shares connections (see scripts/ssh-mux.sh); off with FLAKEVIRT_SSH_MUX=0. */
export function sshMux(): string | undefined {
  return process.env.FLAKEVIRT_SSH_MUX === '0' ? undefined : packagePath('scripts', 'ssh-mux.sh');
}

/** A name handed to virsh as an operand; one starting with "-" would be read as an option (validation refuses such names first). */
export function operand(v: string): string {
  if (v.startsWith('-') || v === '') throw new Error(`internal: ${JSON.stringify(v)} cannot be a virsh operand`);
  return v;
}

export class Virsh {
  /** The URI virsh is given (with the ssh wrapper for qemu+ssh). */
  readonly target: string;
  constructor(readonly uri: string) {
    this.target = muxUri(uri, sshMux());
  }

  /**
   * Runs virsh. Every operand that came from a name (network, domain, pool, volume) is passed
   * through operand(): virsh has no "--" and would read a leading "-" as an option.
   */
  private call(args: string[], what: string): Promise<string> {
    return run('virsh', ['-q', '-c', this.target, ...args], what);
  }

  /** The daemon's libvirt version ("11.3.0") and its hypervisor's ("QEMU 10.0.2"), from `virsh version --daemon`. */
  async version(): Promise<{ daemon: string; hypervisor: string }> {
    const out = await this.call(['version', '--daemon'], 'reading the libvirt version');
    const field = (re: RegExp) => re.exec(out)?.[1]?.trim() ?? '';
    return { daemon: field(/^Running against daemon:\s*(.+)$/m), hypervisor: field(/^Running hypervisor:\s*(.+)$/m) };
  }

  /** A storage pool's available bytes, or undefined when there is no such pool. */
  async poolAvailable(pool: string): Promise<number | undefined> {
    try {
      const out = await this.call(['pool-info', '--bytes', operand(pool)], `reading pool ${pool}`);
      const m = /^Available:\s*(\d+)/m.exec(out);
      return m ? Number(m[1]) : undefined;
    } catch (e) {
      if (/no storage pool with matching name|Storage pool not found/i.test(String((e as Error).message))) return undefined;
      throw e;
    }
  }

  async networkInfo(network: string): Promise<{ exists: boolean; active: boolean; bridge: string }> {
    try {
      const out = await this.call(['net-info', operand(network)], `reading network ${network}`);
      const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(out)?.[1]?.trim() ?? '';
      return { exists: true, active: field('Active') === 'yes', bridge: field('Bridge') };
    } catch (e) {
      if (/no network with matching name|Network not found/i.test(String((e as Error).message))) return { exists: false, active: false, bridge: '' };
      throw e;
    }
  }

  networkStart(network: string): Promise<string> {
    return this.call(['net-start', operand(network)], `starting network ${network}`);
  }

  networkXml(network: string): Promise<string> {
    return this.call(['net-dumpxml', operand(network)], `reading network ${network}`);
  }

  leases(network: string, mac?: string): Promise<string> {
    return this.call(['net-dhcp-leases', operand(network), ...(mac ? ['--mac', mac] : [])], `reading DHCP leases of ${network}`);
  }

  capabilities(): Promise<string> {
    return this.call(['capabilities'], 'reading host capabilities');
  }

  domCapabilities(virttype: 'kvm' | 'qemu'): Promise<string> {
    return this.call(['domcapabilities', '--virttype', virttype, '--arch', 'x86_64', '--machine', 'q35'], `reading ${virttype} domain capabilities`);
  }

  /** Sets one metadata element of a running domain's live definition only (gone when it stops). */
  async setLiveMetadata(domain: string, uri: string, key: string, xml: string): Promise<void> {
    await this.call(['metadata', '--domain', operand(domain), '--uri', uri, '--key', key, '--set', xml, '--live'], `recording this boot of ${domain}`);
  }

  /** Sets (or with `xml` undefined removes) one persistent metadata element, and the live one when the domain runs. */
  async setMetadata(domain: string, uri: string, key: string, xml: string | undefined, { live }: { live: boolean }): Promise<void> {
    const what = xml === undefined ? ['--remove'] : ['--key', key, '--set', xml];
    await this.call(['metadata', '--domain', operand(domain), '--uri', uri, ...what, '--config', ...(live ? ['--live'] : [])], `recording the checkpoints of ${domain}`);
  }

  /**
   * A command of QEMU's human monitor in the running domain (checkpoints; src/checkpoint.ts builds
   * the command from flakevirt's own tags only). Returns what it printed: HMP reports failures as
   * text while virsh exits 0.
   */
  monitor(domain: string, command: MonitorCommand, what: string): Promise<string> {
    return this.call(['qemu-monitor-command', '--hmp', operand(domain), monitorCommand(command)], what);
  }

  /** Starts a defined domain with its CPUs stopped (to load a checkpoint into before it runs). */
  async startPaused(domain: string): Promise<void> {
    await this.call(['start', '--paused', operand(domain)], `starting ${domain} paused`);
  }

  async resume(domain: string): Promise<void> {
    await this.call(['resume', operand(domain)], `resuming ${domain}`);
  }

  // Storage pools and volumes (remote hosts).
  poolXml(pool: string): Promise<string | undefined> {
    return this.call(['pool-dumpxml', operand(pool)], `reading storage pool ${pool}`).catch((e) => {
      if (/no storage pool with matching name|Storage pool not found/i.test(String((e as Error).message))) return undefined;
      throw e;
    });
  }

  async poolCreateDir(pool: string, target: string): Promise<void> {
    await this.call(['pool-define-as', pool, 'dir', '--target', target], `defining storage pool ${pool} at ${target}`);
    await this.poolBuild(pool);
    await this.call(['pool-autostart', pool], `marking storage pool ${pool} autostart`);
  }

  /** Makes a directory pool's target directory when it is missing (nothing when it is there). */
  async poolBuild(pool: string): Promise<void> {
    await this.call(['pool-build', operand(pool)], `building storage pool ${pool}`);
  }

  async poolStart(pool: string): Promise<void> {
    await this.call(['pool-start', operand(pool)], `starting storage pool ${pool}`);
  }

  async poolRefresh(pool: string): Promise<void> {
    await this.call(['pool-refresh', operand(pool)], `refreshing storage pool ${pool}`);
  }

  /** Volume name → path. */
  async volumes(pool: string): Promise<Map<string, string>> {
    const out = await this.call(['vol-list', operand(pool)], `listing volumes of pool ${pool}`);
    const m = new Map<string, string>();
    for (const line of out.split('\n')) {
      const f = /^\s*(\S+)\s+(\S.*?)\s*$/.exec(line);
      if (f) m.set(f[1]!, f[2]!);
    }
    return m;
  }

  async volCreate(pool: string, xml: string, name: string): Promise<void> {
    // virsh reads the XML from a file (it cannot open the socket Node gives a child as stdin).
    await withTempDir('vol', async (dir) => {
      await writeFile(`${dir}/volume.xml`, xml);
      await this.call(['vol-create', pool, `${dir}/volume.xml`], `creating volume ${name} in pool ${pool}`);
    });
  }

  async volDelete(pool: string, name: string): Promise<void> {
    await this.call(['vol-delete', '--pool', operand(pool), operand(name)], `deleting volume ${name} from pool ${pool}`);
  }

  /** Streams a volume's bytes into a local file. */
  /** `offset`: from that byte on (the new part of a console log). */
  async volDownload(pool: string, name: string, file: string, offset = 0): Promise<void> {
    await this.call(['vol-download', '--pool', operand(pool), ...(offset > 0 ? ['--offset', String(offset)] : []), operand(name), file], `downloading volume ${name}`);
  }

  /** Attaches the terminal to a guest's serial console (interactive). */
  console(domain: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const p = spawn('virsh', ['-c', this.target, 'console', operand(domain)], { stdio: 'inherit' });
      p.on('error', reject);
      p.on('exit', (code) => resolve(code ?? 1));
    });
  }
}
