// flakevirt init's first example, brought up as written but for what this machine lacks: the
// example's nixos-flake is the real one read offline (with the nixpkgs stand-in), and since the
// stand-in's image is empty the guest boots the tiny Debian kernel on it under TCG. Then
// `flakevirt ssh` runs a command there with the key init put in the spec.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eSkipReason, TestHost, tinyGuest } from '../helpers/testhost.js';
import { hasCommand } from '../helpers/tools.js';
import { nixFixture, upstreamMissing, type NixFixture } from '../helpers/nix.js';

const skip = e2eSkipReason() ?? (hasCommand('nix') && hasCommand('ssh') ? undefined : 'nix and openssh-client are needed') ?? upstreamMissing();
const host = skip ? undefined : new TestHost('init');
let fx: NixFixture;
let home = '';
let spec = '';

describe.skipIf(skip)('flakevirt init, then up', () => {
  beforeAll(() => {
    host!.up();
    fx = nixFixture(host!.scratch);
    home = join(host!.scratch, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(home, '.ssh', 'id_ed25519')]);
    spec = join(host!.scratch, 'flakevirt.yaml');
  });
  afterAll(() => host?.down());
  const fv = (...args: string[]) => host!.flakevirtEnv({ ...fx.env, HOME: home }, ...args);

  it('the fstests example comes up and flakevirt ssh reaches it', () => {
    const w = fv('init', '-f', spec);
    expect(w.status, w.stderr).toBe(0);
    const g = tinyGuest();
    const text = readFileSync(spec, 'utf8');
    // Only what this machine needs changed: where nixos-flake is, TCG, a small guest on the tiny kernel.
    const here = text
      .replace(/^accel: auto.*$/m, `accel: tcg\npool: ${join(host!.scratch, 'pool')}\nnixosFlake: ${fx.nixosFlake}`)
      .replace(/^defaults: .*$/m, 'defaults: { memory: 512MiB, vcpus: 2, diskSize: 1GiB }')
      .replace(/^  xfs-4k:\n/m, `  xfs-4k:\n    kernel: ${g.kernel}\n    initrd: ${g.initrd}\n    cmdline: console=ttyS0\n`);
    expect(here).not.toBe(text);
    writeFileSync(spec, here);
    const up = fv('up', '-f', spec, '--timeout', '180');
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^xfs-4k\s+\d+\.\d+\.\d+\.\d+\s+created/m);
    const ssh = fv('ssh', '-f', spec, 'xfs-4k', '--', 'id -un; ls /dev/flakevirt');
    expect(ssh.status, ssh.stderr).toBe(0);
    expect(ssh.stdout).toBe('kdevops\nnvme0n1\nnvme1n1\n');
    expect(fv('down', '-f', spec).status).toBe(0);
  });
});
