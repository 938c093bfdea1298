// Waits until a guest's ssh server answers with its banner ("SSH-2.0-…"), polling a TCP connect.
import { connect } from 'node:net';
import { ToolError } from '../errors.js';

function banner(ip: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: ip, port });
    const done = (v: string | undefined) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(undefined));
    sock.on('error', () => done(undefined));
    sock.once('data', (d: Buffer) => done(d.toString('latin1').split('\r\n')[0]));
  });
}

/** Resolves with the banner once the port answers; throws after `timeoutMs`. */
export async function waitForSsh(guest: string, ip: string, timeoutMs: number, port = 22): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = await banner(ip, port, 2000);
    if (b?.startsWith('SSH-')) return b;
    if (Date.now() > deadline) throw new ToolError({ message: `${guest}: ssh on ${ip}:${port} did not answer within ${Math.round(timeoutMs / 1000)} s of the lease`, command: `connect ${ip}:${port}` });
    await new Promise((r) => setTimeout(r, 250));
  }
}
