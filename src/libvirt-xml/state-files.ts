// The files a local libvirtd keeps its domains in, read as text: a persistent domain's config
// (/etc/libvirt/qemu/NAME.xml, a <domain>) and a running domain's status (/run/libvirt/qemu/NAME.xml,
// a <domstatus state='…'> around the live <domain>). Pure: the reading, and why it is trusted, is
// adapters/libvirt-state.ts.
//
// libvirt writes both with virDomainObjSave / virDomainDefSave: the element names and the single-
// quoted state attribute below are its formatter's (src/conf/domain_conf.c virDomainObjFormat, the
// state names virDomainStateTypeToString). The e2e test compares what this yields with the API's
// answer on a real libvirtd (test/e2e/libvirt-state.test.ts), so a format change fails there.
import { xmlUnescape } from '../escape/xml.js';

export interface StateDomain {
  name: string;
  running: boolean;
  /** The state as the API names it (virsh's words): running, paused, shut off, … */
  state: string;
  /** The <domain> element's text: the live definition for a running domain, else the persistent one. */
  xml: string;
}

/**
 * libvirt's domain states in the order of its virDomainState numbers: the name a status file writes
 * (virDomainStateTypeToString) and the word flakevirt shows, as virsh does. The API's state number
 * (adapters/libvirt.ts) and a status file's name both map through this one table.
 */
const DOMAIN_STATES = [
  ['nostate', 'no state'], ['running', 'running'], ['blocked', 'blocked'], ['paused', 'paused'],
  ['shutdown', 'shutting down'], ['shutoff', 'shut off'], ['crashed', 'crashed'], ['pmsuspended', 'suspended'],
] as const;

/** A state number's word and whether the domain has a QEMU (running, blocked, paused). */
export function domainState(n: number): { state: string; running: boolean } {
  return { state: DOMAIN_STATES[n]?.[1] ?? `state ${n}`, running: n >= 1 && n <= 3 };
}

/** The <domain> element of a state file and the name it declares; undefined when there is none. */
function domainOf(text: string): { xml: string; name: string } | undefined {
  const body = text.replace(/<!--[\s\S]*?-->/g, '');
  const start = body.search(/<domain[\s>]/);
  const end = body.lastIndexOf('</domain>');
  if (start < 0 || end < start) return undefined;
  const xml = body.slice(start, end + '</domain>'.length);
  // The domain's own <name> is the first element libvirt writes inside <domain>.
  const name = /^<domain[^>]*>\s*<name>([^<]*)<\/name>/.exec(xml)?.[1];
  return name === undefined ? undefined : { xml, name: xmlUnescape(name) };
}

/**
 * A domain from its state files: `status` when it runs (or is transient), `config` when it is
 * persistent. Undefined when a file does not hold a domain named `name` (a file renamed into another
 * domain's name does not count) or a status file has no state libvirt writes: the caller cannot
 * tell the domain's state from the files, and asks libvirt.
 */
export function stateDomain(name: string, files: { status?: string; config?: string }): StateDomain | undefined {
  if (files.status !== undefined) {
    const state = /<domstatus\s[^>]*\bstate='([a-z]+)'/.exec(files.status)?.[1];
    const n = DOMAIN_STATES.findIndex(([written]) => written === state);
    const dom = domainOf(files.status);
    return n >= 0 && dom?.name === name ? { name, ...domainState(n), xml: dom.xml } : undefined;
  }
  if (files.config === undefined) return undefined;
  const dom = domainOf(files.config);
  return dom?.name === name ? { name, running: false, state: 'shut off', xml: dom.xml } : undefined;
}
