// A private libvirt host (scripts/testhost.sh) and flakevirt run inside it, for end-to-end tests.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './fixtures.js';
import { hasCommand } from './tools.js';

const TESTHOST = join(REPO_ROOT, 'scripts', 'testhost.sh');
const CLI = join(REPO_ROOT, 'dist', 'cli.js');

/** Why end-to-end tests cannot run here, printed once; undefined when they can. */
export function e2eSkipReason(): string | undefined {
  let reason: string | undefined;
  if (process.getuid?.() !== 0) reason = 'end-to-end tests need root (they create network namespaces and run libvirtd)';
  else {
    const absent = ['libvirtd', 'virtlogd', 'virsh', 'qemu-system-x86_64', 'qemu-img', 'dnsmasq', 'ip', 'nsenter', 'unshare', 'apt-get'].filter((c) => !hasCommand(c));
    if (absent.length) reason = `end-to-end tests need ${absent.join(', ')} (run scripts/install-host-packages.sh)`;
  }
  if (reason) process.stderr.write(`skipped: ${reason}\n`);
  return reason;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export class TestHost {
  readonly scratch: string;
  constructor(readonly name: string) {
    this.scratch = mkdtempSync(join('/var/tmp', `flakevirt-e2e-${name}-`));
    chmodSync(this.scratch, 0o755); // qemu (libvirt-qemu) must reach the pool below it
    mkdirSync(join(this.scratch, 'pool'), { recursive: true });
  }

  up(): void {
    execFileSync(TESTHOST, ['up', this.name], { stdio: ['ignore', 'ignore', 'inherit'] });
  }

  /** Stops the host and removes its scratch directory (pool, specs, keys). */
  down(): void {
    spawnSync(TESTHOST, ['down', this.name], { stdio: 'ignore' });
    rmSync(this.scratch, { recursive: true, force: true });
  }

  /** A veth pair to `peer` (another test host): this host is 10.231.N.2, the peer 10.231.N.1. */
  link(peer: TestHost, n: number): string {
    execFileSync(TESTHOST, ['link', this.name, peer.name, String(n)], { stdio: ['ignore', 'ignore', 'inherit'] });
    return `10.231.${n}.2`;
  }

  /** Starts (with that public key authorised) or stops this host's sshd, every connection included. */
  sshd(action: 'start' | 'stop', authorizedKeys?: string): void {
    execFileSync(TESTHOST, ['sshd', this.name, action], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...(authorizedKeys && { TESTHOST_AUTHORIZED_KEYS: authorizedKeys }) } });
  }

  /** Runs a command inside the host's namespaces. */
  exec(args: string[], input?: string): RunResult {
    const t = Date.now();
    const r = spawnSync(TESTHOST, ['exec', this.name, '--', ...args], { encoding: 'utf8', input, cwd: this.scratch });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t };
  }

  virsh(...args: string[]): string {
    const r = this.exec(['virsh', '-q', '-c', 'qemu:///system', ...args]);
    if (r.status !== 0) throw new Error(`virsh ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** Runs flakevirt inside the host (as on a controller whose bridge is local). */
  flakevirt(...args: string[]): RunResult {
    return this.exec([process.execPath, CLI, ...args]);
  }

  /** The same with extra environment variables. */
  flakevirtEnv(env: Record<string, string>, ...args: string[]): RunResult {
    return this.exec(['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, CLI, ...args]);
  }

  /** Starts flakevirt in the background (for kill and concurrency tests). */
  spawnFlakevirt(...args: string[]): ChildProcess {
    return spawn(TESTHOST, ['exec', this.name, '--', process.execPath, CLI, ...args], { cwd: this.scratch, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  }

  /** Path of a file inside the host's private /var/lib/libvirt. */
  libvirtState(...parts: string[]): string {
    return join('/run/flakevirt-testhost', this.name, 'lib', ...parts);
  }
}

/** Builds (or reuses) the tiny Debian-kernel guest; returns its cache directory. */
export function tinyGuest(): { dir: string; kernel: string; initrd: string; base: string } {
  const dir = execFileSync(join(REPO_ROOT, 'scripts', 'tiny-guest.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return { dir, kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), base: join(dir, 'base.qcow2') };
}

/**
 * A kernel as a developer has one after make and make modules_install (scripts/kernel-pair.sh, from a
 * Debian cloud kernel package): tiny = the tiny guest's 6.12, other = another 6.12, old = bookworm's 6.1.
 */
export function kernelPair(which: 'tiny' | 'other' | 'old'): { dir: string; bzImage: string; modules: string; release: string } {
  const dir = execFileSync(join(REPO_ROOT, 'scripts', 'kernel-pair.sh'), [which], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return { dir, bzImage: join(dir, 'bzImage'), modules: join(dir, 'lib', 'modules'), release: readFileSync(join(dir, 'release'), 'utf8').trim() };
}

/** Collects a spawned child's output until it exits (for flakevirt runs started in the background). */
export function finish(child: ChildProcess): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const t = Date.now();
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr, ms: Date.now() - t }));
  });
}

/** Resolves when the child's stderr shows `pattern`; the child is then killed with SIGKILL. */
export function killWhen(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (pattern.test(err)) {
        // The real flakevirt is the node process inside the namespaces: kill the whole group.
        try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
      }
    });
    child.on('exit', () => resolve(err));
  });
}
