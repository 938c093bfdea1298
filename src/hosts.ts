// libvirt URIs → what flakevirt needs to know about a host: local or remote, and how ssh reaches
// its guests. Pure.
import type { Host, Jump } from './model.js';

/**
 * A host of the fleet, decided once from its URI: local (files made directly, leases read from the
 * status file) or remote (libvirt's storage API, leases over the connection, an ssh jump to its
 * guests). Everything that depends on the kind asks kindOf(host) (host-kinds/), never the URI again.
 */
export function hostFor(h: { name: string; connect: string; pool?: string; jump?: string | false; memoryBytes?: number; vcpus?: number }, defaults: { localPool: string; remotePool: string }): Host {
  const capacity = { ...(h.memoryBytes !== undefined && { memoryBytes: h.memoryBytes }), ...(h.vcpus !== undefined && { vcpus: h.vcpus }) };
  if (isLocalUri(h.connect)) return { name: h.name, connect: h.connect, local: true, pool: h.pool ?? defaults.localPool, ...capacity };
  const jump = h.jump === false ? undefined : h.jump !== undefined ? parseJump(h.jump, h.connect) : jumpFromUri(h.connect);
  return { name: h.name, connect: h.connect, local: false, pool: h.pool ?? defaults.remotePool, ...capacity, ...(jump && { jump }) };
}

/** True for URIs whose daemon runs on this machine (no host part), where local files can be read. */
export function isLocalUri(uri: string): boolean {
  return /^[a-z]+(\+unix)?:\/\/\/(system|session)/.test(uri);
}

/** The ssh jump a remote URI implies: its user, address, port and keyfile (undefined when local). */
export function jumpFromUri(uri: string): Jump | undefined {
  if (isLocalUri(uri)) return undefined;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return undefined;
  }
  if (!u.hostname) return undefined;
  const keyFile = u.searchParams.get('keyfile') ?? undefined;
  const noVerify = u.searchParams.get('no_verify') === '1';
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    ...(u.username && { user: decodeURIComponent(u.username) }),
    ...(u.port && { port: Number(u.port) }),
    ...(keyFile && { keyFile }),
    ...(noVerify && { noVerify }),
  };
}

/** "[user@]host[:port]" from the spec, with the keyfile of the URI kept. */
export function parseJump(text: string, uri: string): Jump {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text)!;
  const fromUri = jumpFromUri(uri);
  return {
    host: m[2]!.replace(/^\[|\]$/g, ''), ...(m[1] && { user: m[1] }), ...(m[3] && { port: Number(m[3]) }),
    ...(fromUri?.keyFile && { keyFile: fromUri.keyFile }), ...(fromUri?.noVerify && { noVerify: true }),
  };
}

/** "user@host" or "host", as ssh takes it. */
export function jumpTarget(j: Jump): string {
  return j.user ? `${j.user}@${j.host}` : j.host;
}

/**
 * The URI flakevirt itself opens: for qemu+ssh:// (without a command= of the user's) it names
 * scripts/ssh-mux.sh as the ssh command, which shares one ssh connection per host across calls.
 * `mux` is that script's path; the user's URI is what messages show.
 */
export function muxUri(uri: string, mux: string | undefined): string {
  if (!mux || !/^[a-z0-9]+\+ssh:\/\//i.test(uri) || /[?&]command=/.test(uri)) return uri;
  return `${uri}${uri.includes('?') ? '&' : '?'}command=${encodeURIComponent(mux)}`;
}

/** libvirt transports a fleet uses; others (qemu+ext runs a command, qemu+unix picks a socket) are refused. */
const TRANSPORTS = ['qemu', 'qemu+ssh', 'qemu+libssh2', 'qemu+libssh', 'qemu+tls', 'qemu+tcp', 'test'];
/** URI parameters flakevirt understands; command=, socket=, netcat=, … choose programs or sockets. */
const PARAMS = ['keyfile', 'no_verify', 'no_tty', 'known_hosts', 'known_hosts_verify', 'pkipath', 'sshauth'];
/** Characters ssh and Ansible can carry in a host, user or key path on every layer (ssh_config, ProxyCommand). */
const SSH_VALUE = /^[A-Za-z0-9_./@:+=,[\]-]+$/;

/**
 * What is wrong with a libvirt URI for flakevirt, which runs it as root: only the transports and
 * parameters above, and ssh-safe host, user and key file (a host starting with "-" would be an ssh option).
 */
export function connectIssues(uri: string, path: string): Array<{ path: string; message: string }> {
  const bad = (message: string) => [{ path, message: `${JSON.stringify(uri)}: ${message}` }];
  const m = /^([a-z0-9+]+):\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(uri);
  if (!m) return bad('not a libvirt URI; write e.g. qemu:///system or qemu+ssh://root@host/system');
  const [, scheme, authority, , query] = m as unknown as [string, string, string, string | undefined, string | undefined];
  if (!TRANSPORTS.includes(scheme.toLowerCase())) return bad(`transport ${scheme}:// is not accepted: flakevirt runs as root${scheme.endsWith('+ext') ? ', and this transport runs a command' : ''}; use one of ${TRANSPORTS.map((t) => `${t}://`).join(', ')}`);
  for (const pair of (query ?? '').split('&').filter(Boolean)) {
    const k = decodeURIComponent(pair.split('=')[0]!);
    if (!PARAMS.includes(k)) return bad(`parameter ${k}= is not accepted (it would choose a program, socket or option for a root process); flakevirt understands ${PARAMS.join(', ')}`);
  }
  if (authority) {
    const j = jumpFromUri(uri);
    if (!j) return bad('its host part cannot be read');
    for (const [what, v] of [['host', j.host], ['user', j.user], ['keyfile', j.keyFile]] as const) {
      if (v === undefined) continue;
      if (!SSH_VALUE.test(v) || v.startsWith('-')) return bad(`its ${what} ${JSON.stringify(v)} cannot be handed to ssh safely (allowed: letters, digits and ${'_ . / @ : + = , [ ] -'}, not starting with -)`);
    }
  }
  return [];
}

/** The same for a spec's `jump: [user@]host[:port]`. */
export function jumpIssues(text: string, path: string): Array<{ path: string; message: string }> {
  const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:@]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m) return [{ path, message: `${JSON.stringify(text)} is not [user@]host[:port]` }];
  for (const v of [m[1], m[2]]) {
    if (v !== undefined && (!SSH_VALUE.test(v) || v.startsWith('-'))) return [{ path, message: `${JSON.stringify(v)} cannot be handed to ssh safely (letters, digits and _ . / @ : + = , [ ] -, not starting with -)` }];
  }
  if (m[3] && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return [{ path, message: `port ${m[3]} is not 1…65535` }];
  return [];
}
