// Waits until a guest's ssh server answers with its banner ("SSH-2.0-…"), polling a TCP connect
// (or, for a guest on a remote host's private network, `ssh -W` through that host).
import { printable } from '../escape/terminal.js';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { ToolError } from '../errors.js';
import type { Jump } from '../model.js';
import { jumpTarget } from '../hosts.js';
import { jumpOptions } from '../render/jump.js';

/** The first line the guest's port sends, read through `ssh -W ip:port` on the jump host. */
function bannerVia(j: Jump, ip: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('ssh', ['-W', `${ip}:${port}`, ...jumpOptions(j), '-o', `ConnectTimeout=${Math.ceil(timeoutMs / 1000)}`, jumpTarget(j)], { stdio: ['pipe', 'pipe', 'ignore'] });
    let settled = false;
    const done = (v: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    child.stdout.once('data', (d: Buffer) => done(d.toString('latin1').split('\r\n')[0]));
    child.on('exit', () => done(undefined));
    child.on('error', () => done(undefined));
  });
}

/**
 * The port's first line: `connectMs` bounds the TCP handshake (a lost SYN is retried by a new
 * attempt rather than the kernel's 1 s, 3 s backoff), then the server has 5 s to send its banner.
 * Giving up on a connected socket sooner only makes a slow server (a guest whose TCG translation
 * cache is cold right after a checkpoint is loaded) start over, and fills its unauthenticated slots.
 */
function banner(ip: string, port: number, connectMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: ip, port });
    const done = (v: string | undefined) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(connectMs, () => done(undefined));
    sock.once('connect', () => sock.setTimeout(Math.max(connectMs, 5000)));
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
    sock.once('data', (d: Buffer) => done(d.toString('latin1').split('\r\n')[0]));
  });
}

/** Resolves with the banner once the port answers; throws after `timeoutMs`. */
export async function waitForSsh(guest: string, ip: string, timeoutMs: number, { port = 22, jump, attemptMs = 2000 }: { port?: number; jump?: Jump; attemptMs?: number } = {}): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // `attemptMs` bounds one direct handshake: a lost SYN is otherwise resent by the kernel only after 1 s, then 3 s.
    const b = jump ? await bannerVia(jump, ip, port, 5000) : await banner(ip, port, attemptMs);
    if (b?.startsWith('SSH-')) return printable(b);
    if (Date.now() > deadline) throw new ToolError({ message: `${guest}: ssh on ${ip}:${port} did not answer within ${Math.round(timeoutMs / 1000)} s of the lease`, command: jump ? `ssh -W ${ip}:${port} ${jumpTarget(jump)}` : `connect ${ip}:${port}` });
    await new Promise((r) => setTimeout(r, Math.min(250, attemptMs)));
  }
}
