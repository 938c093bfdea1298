// libvirt URIs → what flakevirt needs to know about a host: local or remote, and how ssh reaches
// its guests. Pure.
import type { Jump } from './model.js';

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
