// libvirt through virsh, for what the binding lacks: networks, DHCP leases, capabilities, console.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { run } from './run.js';
import { withTempDir } from './temp-dir.js';
import { muxUri } from '../hosts.js';
import { packagePath } from '../package-root.js';

/** The ssh wrapper that shares connections (see scripts/ssh-mux.sh); off with FLAKEVIRT_SSH_MUX=0. */
export function sshMux(): string | undefined {
  return process.env.FLAKEVIRT_SSH_MUX === '0' ? undefined : packagePath('scripts', 'ssh-mux.sh');
}

export class Virsh {
  /** The URI virsh is given (with the ssh wrapper for qemu+ssh). */
  readonly target: string;
  constructor(readonly uri: string) {
    this.target = muxUri(uri, sshMux());
  }

  private call(args: string[], what: string): Promise<string> {
    return run('virsh', ['-q', '-c', this.target, ...args], what);
  }

  async networkInfo(network: string): Promise<{ exists: boolean; active: boolean; bridge: string }> {
    try {
      const out = await this.call(['net-info', network], `reading network ${network}`);
      const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(out)?.[1]?.trim() ?? '';
      return { exists: true, active: field('Active') === 'yes', bridge: field('Bridge') };
    } catch (e) {
      if (/no network with matching name|Network not found/i.test(String((e as Error).message))) return { exists: false, active: false, bridge: '' };
      throw e;
    }
  }

  networkStart(network: string): Promise<string> {
    return this.call(['net-start', network], `starting network ${network}`);
  }

  networkXml(network: string): Promise<string> {
    return this.call(['net-dumpxml', network], `reading network ${network}`);
  }

  leases(network: string, mac?: string): Promise<string> {
    return this.call(['net-dhcp-leases', network, ...(mac ? ['--mac', mac] : [])], `reading DHCP leases of ${network}`);
  }

  capabilities(): Promise<string> {
    return this.call(['capabilities'], 'reading host capabilities');
  }

  domCapabilities(virttype: 'kvm' | 'qemu'): Promise<string> {
    return this.call(['domcapabilities', '--virttype', virttype, '--arch', 'x86_64', '--machine', 'q35'], `reading ${virttype} domain capabilities`);
  }

  /** Sets one metadata element of a running domain's live definition only (gone when it stops). */
  async setLiveMetadata(domain: string, uri: string, key: string, xml: string): Promise<void> {
    await this.call(['metadata', '--domain', domain, '--uri', uri, '--key', key, '--set', xml, '--live'], `recording this boot of ${domain}`);
  }

  // Storage pools and volumes (remote hosts).
  poolXml(pool: string): Promise<string | undefined> {
    return this.call(['pool-dumpxml', pool], `reading storage pool ${pool}`).catch((e) => {
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
    await this.call(['pool-build', pool], `building storage pool ${pool}`);
  }

  async poolStart(pool: string): Promise<void> {
    await this.call(['pool-start', pool], `starting storage pool ${pool}`);
  }

  async poolRefresh(pool: string): Promise<void> {
    await this.call(['pool-refresh', pool], `refreshing storage pool ${pool}`);
  }

  /** Volume name → path. */
  async volumes(pool: string): Promise<Map<string, string>> {
    const out = await this.call(['vol-list', pool], `listing volumes of pool ${pool}`);
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
    await this.call(['vol-delete', '--pool', pool, name], `deleting volume ${name} from pool ${pool}`);
  }

  /** Streams a volume's bytes into a local file. */
  async volDownload(pool: string, name: string, file: string): Promise<void> {
    await this.call(['vol-download', '--pool', pool, name, file], `downloading volume ${name}`);
  }

  /** Attaches the terminal to a guest's serial console (interactive). */
  console(domain: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const p = spawn('virsh', ['-c', this.target, 'console', domain], { stdio: 'inherit' });
      p.on('error', reject);
      p.on('exit', (code) => resolve(code ?? 1));
    });
  }
}
