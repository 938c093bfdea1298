// The one module that talks to libvirt: domains through the @unraid/libvirt binding, networks,
// leases and capabilities through virsh (the binding has no network API). Swap it here.
import type { Domain, Hypervisor } from '@unraid/libvirt';
import { fileURLToPath } from 'node:url';
import { ToolError } from '../errors.js';
import { Virsh, sshMux } from './virsh.js';
import { isLocalUri, muxUri } from '../hosts.js';
import { domainState } from '../libvirt-xml/state-files.js';

export interface DomainView {
  name: string;
  running: boolean;
  /** libvirt's state name: running, shut off, crashed, paused, … */
  state: string;
  xml: string;
}

/**
 * The binding's Hypervisor class. The package's index also loads its domain-XML helpers (xml2js,
 * xmlbuilder, sax), which flakevirt does not use: importing them took 53 ms against 14 for the
 * Hypervisor module alone. Its own file, next to the index; the index when that file is not there.
 */
async function loadHypervisor(): Promise<typeof Hypervisor> {
  try {
    // A path, not a URL: the bundle (CommonJS, scripts/bundle.mjs) loads it with require().
    const file = fileURLToPath(new URL('./hypervisor.js', import.meta.resolve('@unraid/libvirt')));
    return ((await import(file)) as { Hypervisor: typeof Hypervisor }).Hypervisor;
  } catch {
    return (await import('@unraid/libvirt')).Hypervisor;
  }
}


export class Libvirt {
  readonly virsh: Virsh;
  private constructor(readonly uri: string, private readonly hv: Hypervisor) {
    this.virsh = new Virsh(uri);
  }

  static async open(uri: string): Promise<Libvirt> {
    const Hypervisor = await loadHypervisor();
    const hv = new Hypervisor({ uri: muxUri(uri, sshMux()) });
    try {
      await hv.connectOpen();
    } catch (e) {
      const hint = isLocalUri(uri)
        ? 'Is libvirtd running, and may this user use it (root, or the libvirt group)?'
        : 'Is the host up, does ssh reach it with that user and key, and is libvirtd running there?';
      throw new ToolError({ message: `cannot connect to libvirt at ${uri}: ${(e as Error).message}. ${hint}`, command: `virConnectOpen(${uri})`, cause: e });
    }
    return new Libvirt(uri, hv);
  }

  async close(): Promise<void> {
    await this.hv.connectClose().catch(() => undefined);
  }

  private async wrap<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw new ToolError({ message: `${what}: ${(e as Error).message}`, command: `libvirt ${this.uri}`, cause: e });
    }
  }

  private async view(d: Domain): Promise<DomainView> {
    const [name, info, xml] = await Promise.all([d.getName(), d.getInfo(), d.getXMLDesc()]);
    return { name, ...domainState(info.state), xml };
  }

  /** Every domain on the connection, with its XML (persistent config when defined). */
  async domains(): Promise<DomainView[]> {
    return this.wrap('listing domains', async () => {
      const all = await this.hv.connectListAllDomains();
      const views = await Promise.allSettled(all.map((d) => this.view(d)));
      // A domain undefined between the listing and the lookup is simply gone.
      return views.flatMap((v) => (v.status === 'fulfilled' ? [v.value] : []));
    });
  }

  /** The host's memory (bytes) and CPU count. */
  async nodeInfo(): Promise<{ memoryBytes: number; cpus: number }> {
    const i = await this.wrap('reading node info', () => this.hv.nodeGetInfo());
    return { memoryBytes: i.memory * 1024, cpus: i.cpus };
  }

  /** One domain by name (one lookup, not a listing of every domain); undefined when there is none. */
  async domain(name: string): Promise<DomainView | undefined> {
    let d: Domain;
    try {
      d = await this.hv.domainLookupByName(name);
    } catch (e) {
      // The binding drops libvirt's error code (VIR_ERR_NO_DOMAIN); its message says it. Any other
      // failure: the listing answers, or reports the connection's trouble in its own words.
      if (/^Domain not found/.test((e as Error).message)) return undefined;
      return (await this.domains()).find((x) => x.name === name);
    }
    return this.view(d).catch(() => undefined);
  }

  async state(name: string): Promise<string | undefined> {
    return (await this.domain(name))?.state;
  }

  async define(xml: string): Promise<void> {
    await this.wrap('defining the domain', () => this.hv.domainDefineXML(xml));
  }

  /** Starts a transient domain (gone when it stops): doctor's KVM probe. */
  async createTransient(xml: string): Promise<void> {
    await this.wrap('starting a transient domain', () => this.hv.domainCreateXML(xml));
  }

  async start(name: string): Promise<void> {
    await this.wrap(`starting ${name}`, async () => (await this.hv.domainLookupByName(name)).create());
  }

  /** Hard power-off; a domain that is already off is fine. */
  async destroy(name: string): Promise<void> {
    const d = await this.domain(name);
    if (!d?.running) return;
    await this.wrap(`stopping ${name}`, async () => (await this.hv.domainLookupByName(name)).destroy()).catch(async (e) => {
      if ((await this.domain(name))?.running) throw e;
    });
  }

  /** Removes the definition; a domain that is already gone is fine. */
  async undefine(name: string): Promise<void> {
    if (!(await this.domain(name))) return;
    await this.wrap(`undefining ${name}`, async () => (await this.hv.domainLookupByName(name)).undefine()).catch(async (e) => {
      if (await this.domain(name)) throw e;
    });
  }

}
