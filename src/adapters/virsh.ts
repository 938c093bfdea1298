// libvirt through virsh, for what the binding lacks: networks, DHCP leases, capabilities, console.
import { spawn } from 'node:child_process';
import { run } from './run.js';

export class Virsh {
  constructor(readonly uri: string) {}

  private call(args: string[], what: string): Promise<string> {
    return run('virsh', ['-q', '-c', this.uri, ...args], what);
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

  /** Attaches the terminal to a guest's serial console (interactive). */
  console(domain: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const p = spawn('virsh', ['-c', this.uri, 'console', domain], { stdio: 'inherit' });
      p.on('error', reject);
      p.on('exit', (code) => resolve(code ?? 1));
    });
  }
}
