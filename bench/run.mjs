#!/usr/bin/env node
// flakevirt benchmarks: each figure is measured against the naive approach in the same run and
// printed as a ratio. Run as root (the lease and reimage parts use a private libvirt test host).
//   npm run bench                 all parts
//   node bench/run.mjs --sizes 1,4,8 --rounds 5 --boots 3 --only overlay,lease
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, writeSync, closeSync, rmSync, statSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOverlay, imageInfo } from '../dist/adapters/disks.js';
import { freshLease, parseVirshLeases, parseStatusFile } from '../dist/leases.js';
import { macFor } from '../dist/render/identity.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((a, x, i, all) => (x.startsWith('--') ? [...a, [x.slice(2), all[i + 1]]] : a), []));
const sizes = (args.sizes ?? '1,4,8').split(',').map(Number);
const rounds = Number(args.rounds ?? 5);
const boots = Number(args.boots ?? 3);
const only = args.only ? args.only.split(',') : ['overlay', 'lease', 'reimage', 'fleet', 'read', 'everyday', 'checkpoint', 'multihost', 'imageless', 'health', 'busy'];
const resetSizes = (args['reset-sizes'] ?? '256,1024,2048').split(',').map(Number);
const fleetSizes = (args.fleet ?? '1,4,8').split(',').map(Number);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
const rows = [];

// 1. Root disk: overlay (flakevirt) vs full copy of the base image (the peers' way), warm cache.
async function overlayBench() {
  const dir = mkdtempSync('/var/tmp/flakevirt-bench-');
  try {
    for (const gib of sizes) {
      const raw = join(dir, `base-${gib}.raw`);
      const base = join(dir, `base-${gib}.qcow2`);
      const chunk = Buffer.alloc(64 << 20);
      const fd = openSync(raw, 'w');
      for (let i = 0; i < gib * 16; i++) writeSync(fd, randomFillSync(chunk));
      closeSync(fd);
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, base]);
      rmSync(raw);
      const info = await imageInfo(base);
      execFileSync('cat', [base], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache
      const over = [];
      const copy = [];
      for (let r = 0; r < rounds; r++) {
        const o = join(dir, `o-${r}.qcow2`);
        let t = performance.now();
        await createOverlay(o, base, info, 1 << 30);
        over.push(performance.now() - t);
        rmSync(o);
        const c = join(dir, `c-${r}.qcow2`);
        t = performance.now();
        execFileSync('cp', ['--reflink=never', '--sparse=never', base, c]);
        copy.push(performance.now() - t);
        rmSync(c);
      }
      rows.push([`root disk, ${gib} GiB base (median of ${rounds})`, `overlay ${fmt(median(over))} ms`, `full copy ${fmt(median(copy))} ms`, `${(median(copy) / median(over)).toFixed(0)}× faster`]);
      rmSync(base);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Waits until the machine is quiet: TCG guests keep both cores busy for a while after their lease
 * (init, udev, sshd), and a figure taken then measures that contention rather than flakevirt.
 * Returns the idle share of the last second (at most 90 s of waiting; the figure is printed).
 */
async function settle(wantIdle = 0.9) {
  const sample = () => { const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number); return { idle: f[3] + f[4], all: f.reduce((a, b) => a + b, 0) }; };
  let idle = 0;
  for (let i = 0; i < 90; i++) {
    const a = sample();
    await new Promise((r) => setTimeout(r, 1000));
    const b = sample();
    idle = (b.idle - a.idle) / Math.max(1, b.all - a.all);
    if (idle >= wantIdle) break;
  }
  return idle;
}

// A private libvirt host with one tiny guest, for the lease and reimage parts.
const TH = join(ROOT, 'scripts', 'testhost.sh');
// Run as the installed `flakevirt` is (dist/cli.js through its shebang), the way users run it.
const CLI = join(ROOT, 'dist', 'cli.js');
function inHost(cmd) {
  return spawnSync(TH, ['exec', 'bench', '--', ...cmd], { encoding: 'utf8' });
}
function setupHost() {
  execFileSync(TH, ['up', 'bench'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tiny = execFileSync(join(ROOT, 'scripts', 'tiny-guest.sh'), { encoding: 'utf8' }).trim();
  const dir = mkdtempSync('/var/tmp/flakevirt-bench-');
  chmodSync(dir, 0o755);
  const spec = join(dir, 'flakevirt.yaml');
  writeFileSync(spec, `pool: ${dir}/pool\naccel: tcg\nguests:\n  bench-1: { memory: 512MiB, vcpus: 1, diskSize: 1GiB, image: ${tiny}/base.qcow2, kernel: ${tiny}/vmlinuz, initrd: ${tiny}/initrd.img, cmdline: "console=ttyS0 quiet", disks: { /dev/vdb: { size: 64MiB } } }\n`);
  return { dir, spec };
}

/** Runs flakevirt in the host; returns exit status and the arrival time (ms, epoch) of each stderr line. */
function timedFlakevirt(argv, host = 'bench', env = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const withEnv = Object.keys(env).length ? ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)] : [];
    const p = spawn(TH, ['exec', host, '--', ...withEnv, CLI, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [];
    let buf = '';
    p.stderr.on('data', (d) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push({ at: Date.now(), text: buf.slice(0, i) });
        buf = buf.slice(i + 1);
      }
    });
    p.stdout.resume();
    p.on('exit', (status) => resolve({ status, t0, end: Date.now(), lines }));
  });
}
const when = (run, re) => run.lines.find((l) => re.test(l.text))?.at;

// 2 + 3. Lease detection latency (vs a 3 s virsh poll loop watching the same boot) and reimage overhead.
async function leaseAndReimageBench() {
  const { dir, spec } = setupHost();
  const statusFile = '/run/flakevirt-testhost/bench/lib/dnsmasq/virbr0.status';
  const mac = macFor('bench-1');
  try {
    const up = await timedFlakevirt(['up', '-f', spec, '--timeout', '120']);
    if (up.status !== 0) throw new Error('bench: up failed');
    const fv = [];
    const naive = [];
    const overhead = [];
    for (let b = 0; b < boots; b++) {
      // The naive loop: `virsh net-dhcp-leases --mac` every 3 s until the lease changes.
      const before = new Map(parseStatusFile(readFileSync(statusFile, 'utf8')).filter((l) => l.mac === mac).map((l) => [l.ip, l.expiry]));
      const startedAt = Math.floor(Date.now() / 1000);
      let naiveAt;
      let stop = false;
      const poller = (async () => {
        while (!stop && !naiveAt) {
          const out = inHost(['virsh', '-q', '-c', 'qemu:///system', 'net-dhcp-leases', 'default', '--mac', mac]).stdout;
          if (freshLease(parseVirshLeases(out), { mac, startedAt, leaseTime: 3600, before })) naiveAt = Date.now();
          else await new Promise((r) => setTimeout(r, 3000));
        }
      })();
      const run = await timedFlakevirt(['reimage', '-f', spec, '--timeout', '120']);
      const ack = statSync(statusFile).mtimeMs; // the leaseshelper rewrites it on DHCPACK
      await Promise.race([poller, new Promise((r) => setTimeout(r, 8000))]);
      stop = true;
      const seen = when(run, /\] lease /);
      fv.push(seen - ack);
      if (naiveAt) naive.push(naiveAt - ack);
      // Reimage overhead: everything but destroy (libvirt/kernel), virsh start and the guest's boot.
      const tStop = when(run, /\] stopping/);
      const tStopped = when(run, /replacing root overlay/);
      const tStart = when(run, /\] starting/);
      const tStarted = when(run, /waiting for a fresh DHCP lease/);
      const total = run.end - run.t0;
      const destroy = tStopped - tStop;
      const start = tStarted - tStart;
      const boot = ack - tStarted;
      overhead.push({ total, destroy, start, boot, own: total - destroy - start - boot });
    }
    rows.push([`lease detection after DHCPACK (median of ${boots} boots)`, `flakevirt ${fmt(median(fv))} ms`, `3 s virsh poll ${naive.length ? fmt(median(naive)) : '-'} ms`, naive.length ? `${(median(naive) / Math.max(1, median(fv))).toFixed(0)}× sooner` : '']);
    const m = (k) => median(overhead.map((o) => o[k]));
    rows.push([`reimage (median of ${boots})`, `total ${fmt(m('total'))} ms`, `destroy ${fmt(m('destroy'))} + start ${fmt(m('start'))} + boot ${fmt(m('boot'))} ms`, `flakevirt's own ${fmt(m('own'))} ms`]);
  } finally {
    inHost([CLI, 'down', '--all', '-f', spec]);
    spawnSync(TH, ['down', 'bench']);
    rmSync(dir, { recursive: true, force: true });
  }
}

// 4. Fleet: `up` of 1, 4 and 8 tiny guests at once, wall time to the last lease.
async function fleetBench() {
  const { dir } = setupHost();
  const tiny = execFileSync(join(ROOT, 'scripts', 'tiny-guest.sh'), { encoding: 'utf8' }).trim();
  const times = new Map();
  try {
    for (const n of fleetSizes) {
      const spec = join(dir, `fleet-${n}.yaml`);
      const guests = Array.from({ length: n }, (_, i) => `  f${i + 1}: { image: ${tiny}/base.qcow2, kernel: ${tiny}/vmlinuz, initrd: ${tiny}/initrd.img, cmdline: "console=ttyS0 quiet" }`).join('\n');
      writeFileSync(spec, `pool: ${dir}/pool\naccel: tcg\ndefaults: { memory: 256MiB, vcpus: 1, diskSize: 1GiB }\nguests:\n${guests}\n`);
      const run = await timedFlakevirt(['up', '-f', spec, '--timeout', '300']);
      if (run.status !== 0) throw new Error(`bench: up of ${n} guests failed`);
      times.set(n, run.end - run.t0);
      inHost([CLI, 'down', '--all', '-f', spec]);
    }
  } finally {
    spawnSync(TH, ['down', 'bench']);
    rmSync(dir, { recursive: true, force: true });
  }
  const one = times.get(fleetSizes[0]);
  for (const [n, ms] of times) rows.push([`up of ${n} guest${n > 1 ? 's' : ''} at once`, `${fmt(ms)} ms`, `${fmt(ms / n)} ms per guest`, n > 1 ? `${(ms / one).toFixed(1)}× one guest` : '']);
}

/** Defines the spec's guests as flakevirt would, without starting them (50 for the read benchmarks). */
async function defineFlakevirtDomains(dir, tiny, spec) {
  const { renderDomain } = await import('../dist/render/domain.js');
  const { guestPaths } = await import('../dist/render/paths.js');
  const { parseSpec } = await import('../dist/spec/parse.js');
  const { normalize } = await import('../dist/spec/normalize.js');
  const fleet = normalize(parseSpec(readFileSync(spec, 'utf8')).spec, { specPath: spec, home: '/root' });
  const template = readFileSync(join(ROOT, 'domain-templates', 'q35.xml'), 'utf8');
  for (const g of fleet.guests) {
    const xml = renderDomain({ fleet, guest: g, host: { domainType: 'qemu', nvme: 'commandline' }, base: { path: `${tiny}/base.qcow2`, id: 'bench' }, paths: guestPaths(fleet.pool, g.name), templateText: template });
    writeFileSync(join(dir, `${g.name}.xml`), xml);
    inHost(['virsh', '-q', '-c', 'qemu:///system', 'define', join(dir, `${g.name}.xml`)]);
  }
  return fleet;
}

/** The bench host, the tiny guest, its boot fields and a spec's first lines (50-domain parts). */
function fleetHost() {
  const { dir } = setupHost();
  const tiny = execFileSync(join(ROOT, 'scripts', 'tiny-guest.sh'), { encoding: 'utf8' }).trim();
  const boot = `image: ${tiny}/base.qcow2, kernel: ${tiny}/vmlinuz, initrd: ${tiny}/initrd.img, cmdline: "console=ttyS0 quiet"`;
  return { dir, tiny, boot, head: `pool: ${dir}/pool\naccel: tcg\ndefaults: { memory: 256MiB, vcpus: 1, diskSize: 1GiB }\n` };
}

/** Median wall time of a command in the bench host, over `rounds`. */
function time(argv) {
  const xs = [];
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    const res = inHost(argv);
    if (res.status !== 0) throw new Error(`bench: ${argv.join(' ')}: ${res.stderr}`);
    xs.push(performance.now() - t);
  }
  return median(xs);
}

// 5. Everyday commands (issue 17), each a whole process (Node start-up included), median of
// `rounds`, against `node -e 0` measured in the same run: a no-op `up` of 1 guest (two extra disks)
// and of 8, `list`, `ips` and `inventory --list` with 50 defined domains (against the naive virsh
// loop: virsh list, a dumpxml per domain, the leases), and flakevirt's own part of an `up` that
// creates a guest (all but libvirt starting qemu and the guest booting).
async function everydayBench() {
  const { dir, tiny, boot, head } = fleetHost();
  const fifty = join(dir, 'fifty.yaml');
  writeFileSync(fifty, `${head}guests:\n${Array.from({ length: 50 }, (_, i) => `  r${String(i + 1).padStart(2, '0')}: { ${boot}, disks: { /dev/nvme0n1: { size: 1GiB }, /dev/vdb: { size: 1GiB } } }`).join('\n')}\n`);
  const one = join(dir, 'one.yaml');
  writeFileSync(one, `${head}guests:\n  o1: { ${boot}, disks: { /dev/nvme0n1: { size: 1GiB }, /dev/vdb: { size: 1GiB } } }\n`);
  const eight = join(dir, 'eight.yaml');
  writeFileSync(eight, `${head}guests:\n${Array.from({ length: 8 }, (_, i) => `  e${i + 1}: { ${boot}, disks: { /dev/nvme0n1: { size: 1GiB }, /dev/vdb: { size: 1GiB } } }`).join('\n')}\n`);
  await defineFlakevirtDomains(dir, tiny, fifty);
  const naive = join(dir, 'naive.sh');
  writeFileSync(naive, `#!/bin/sh\nfor d in $(virsh -q -c qemu:///system list --all --name); do virsh -q -c qemu:///system dumpxml "$d" >/dev/null; done\nvirsh -q -c qemu:///system net-dhcp-leases default >/dev/null\n`);
  chmodSync(naive, 0o755);
  try {
    // The 8 first: they also fill what flakevirt keeps between runs (spec, host facts, image
    // info), as on a controller in use; the first run after installing is slower.
    const up8 = await timedFlakevirt(['up', '-f', eight, '--timeout', '300']);
    if (up8.status !== 0) throw new Error('bench: up of 8 guests failed');
    const idleBefore = await settle();
    // flakevirt's own part of creating one guest: total minus libvirt starting qemu and the boot.
    const create = await timedFlakevirt(['up', '-f', one, '--timeout', '300']);
    if (create.status !== 0) throw new Error('bench: up of a new guest failed');
    const tStart = when(create, /\] starting/);
    const tStarted = when(create, /waiting for a fresh DHCP lease/);
    const tLease = when(create, /\] lease /);
    const own = create.end - create.t0 - (tStarted - tStart) - (tLease - tStarted);
    const idle = await settle();
    const nsOnly = time(['true']);
    const node = time([process.execPath, '-e', '0']) - nsOnly;
    const m = (argv) => time([CLI, ...argv]) - nsOnly;
    const noop1 = m(['up', '-f', one]);
    const noop8 = m(['up', '-f', eight]);
    const list = m(['list', '-f', fifty, '--json']);
    const ips = m(['ips', '-f', fifty]);
    const inv = m(['inventory', '-f', fifty, '--list']);
    const loop = time([naive]) - nsOnly;
    // The bundle compiled from source, as without the build's V8 code cache (src/launch.ts).
    const noCache = (argv) => time(['env', 'FLAKEVIRT_CODE_CACHE=0', CLI, ...argv]) - nsOnly;
    const noop1Cold = noCache(['up', '-f', one]);
    const listCold = noCache(['list', '-f', fifty, '--json']);
    const x = (ms) => `${(ms / node).toFixed(1)}× node -e 0`;
    rows.push([`node -e 0 (the yardstick, median of ${rounds})`, `${fmt(node)} ms`, `machine idle ${(idleBefore * 100).toFixed(0)}% before the new guest, ${(idle * 100).toFixed(0)}% before the rest`, '']);
    if (process.env.NODE_EXTRA_CA_CERTS) {
      // Set on this machine: Node 20 reads the bundle at start; flakevirt's shebang starts Node without it.
      const bare = time(['env', '-u', 'NODE_EXTRA_CA_CERTS', process.execPath, '-e', '0']) - nsOnly;
      rows.push(['node -e 0 without NODE_EXTRA_CA_CERTS (set here)', `${fmt(bare)} ms`, x(bare), 'what flakevirt\'s own start-up costs here']);
    }
    rows.push(['no-op up, 1 guest with 2 extra disks', `${fmt(noop1)} ms`, x(noop1), 'goal ≤ 300 ms']);
    rows.push(['no-op up, 8 guests', `${fmt(noop8)} ms`, x(noop8), 'goal ≤ 500 ms']);
    rows.push(['list, 50 defined domains + 8 running', `${fmt(list)} ms`, x(list), `virsh loop ${fmt(loop)} ms (${(loop / list).toFixed(1)}× list); goal ≤ 250 ms`]);
    rows.push(['ips, same', `${fmt(ips)} ms`, x(ips), 'goal ≤ 250 ms']);
    rows.push(['inventory --list, same', `${fmt(inv)} ms`, x(inv), 'goal ≤ 250 ms']);
    rows.push(['no-op up, 1 guest, without the code cache', `${fmt(noop1Cold)} ms`, x(noop1Cold), `${(noop1Cold / noop1).toFixed(2)}× with it (FLAKEVIRT_CODE_CACHE=0)`]);
    rows.push(['list, 50 domains, without the code cache', `${fmt(listCold)} ms`, x(listCold), `${(listCold / list).toFixed(2)}× with it`]);
    rows.push(['up of a new guest: flakevirt\'s own part', `${fmt(own)} ms`, `of ${fmt(create.end - create.t0)} ms (qemu start ${fmt(tStarted - tStart)}, boot to lease ${fmt(tLease - tStarted)})`, 'goal ≤ 300 ms']);
  } finally {
    for (const f of [one, eight]) inHost([CLI, 'down', '--all', '-f', f]);
    spawnSync(TH, ['down', 'bench']);
    rmSync(dir, { recursive: true, force: true });
  }
}

// 5c. Kernel health (issue 24): `list` with 50 defined domains whose console logs hold 10 MiB each
// (nine earlier boots, then a last one with a WARNING and an oops at its end): the first list after
// the logs were written, and then every list (what each reads: the part of each log it has not seen),
// against a list of the same domains without logs and against the naive way, reading every log to
// its end on every list (one grep per log).
async function healthBench() {
  const { dir } = setupHost();
  const tiny = execFileSync(join(ROOT, 'scripts', 'tiny-guest.sh'), { encoding: 'utf8' }).trim();
  const boot = `image: ${tiny}/base.qcow2, kernel: ${tiny}/vmlinuz, initrd: ${tiny}/initrd.img, cmdline: "console=ttyS0"`;
  const fifty = join(dir, 'fifty.yaml');
  writeFileSync(fifty, `pool: ${dir}/pool\naccel: tcg\ndefaults: { memory: 256MiB, vcpus: 1, diskSize: 1GiB }\nguests:\n${Array.from({ length: 50 }, (_, i) => `  h${String(i + 1).padStart(2, '0')}: { ${boot} }`).join('\n')}\n`);
  const fleet = await defineFlakevirtDomains(dir, tiny, fifty);
  try {
    const nsOnly = time(['true']);
    const node = time([process.execPath, '-e', '0']) - nsOnly;
    const m = (argv) => time([CLI, ...argv]) - nsOnly;
    const bare = m(['list', '-f', fifty, '--json']);
    const banner = '[    0.000000] Linux version 6.12.95+deb12-cloud-amd64 (debian-kernel@lists.debian.org) (gcc) #1 SMP PREEMPT_DYNAMIC\n';
    const line = '[  123.456789] EXT4-fs (vdb): mounted filesystem 2b1c3d4e-0000-4000-8000-000000000000 r/w with ordered data mode.\n';
    const bootText = banner + line.repeat(Math.floor((10 << 20) / 10 / line.length));
    const last = `${bootText}[  200.000000] WARNING: CPU: 1 PID: 345 at fs/xfs/xfs_message.c:104 xfs_buf_alert_ratelimited+0x4c/0x60 [xfs]\n[  201.000000] BUG: kernel NULL pointer dereference, address: 0000000000000000\n[  201.000001] Oops: Oops: 0002 [#1] PREEMPT SMP NOPTI\n`;
    const log = bootText.repeat(9) + last;
    for (const g of fleet.guests) {
      const d = join(dir, 'pool', g.name);
      spawnSync('mkdir', ['-p', d]);
      writeFileSync(join(d, 'console.log'), log);
    }
    const t = performance.now();
    const first = inHost([CLI, 'list', '-f', fifty, '--json']);
    const cold = performance.now() - t - nsOnly;
    const states = JSON.parse(first.stdout).map((r) => r.kernel?.state);
    if (states.length !== 50 || states.some((x) => x !== 'oops')) throw new Error(`bench: list did not report the oops in every log: ${states.join(',')}`);
    const warm = m(['list', '-f', fifty, '--json']);
    const naive = join(dir, 'naive-health.sh');
    writeFileSync(naive, `#!/bin/sh\nfor f in ${dir}/pool/*/console.log; do grep -cE 'Kernel panic - not syncing|Oops:|BUG:|WARNING: CPU|blocked for more than' "$f" >/dev/null; done\n`);
    chmodSync(naive, 0o755);
    const grep = time([naive]) - nsOnly;
    const x = (ms) => `${(ms / node).toFixed(1)}× node -e 0`;
    rows.push([`node -e 0 (the yardstick, median of ${rounds})`, `${fmt(node)} ms`, '', '']);
    rows.push(['list, 50 defined domains, no console logs', `${fmt(bare)} ms`, x(bare), '']);
    rows.push(['list, the same with a 10 MiB console log each (500 MiB): every list', `${fmt(warm)} ms`, x(warm), `${(warm / bare).toFixed(2)}× the list without logs; reading every log each time (grep) ${fmt(grep)} ms (${(grep / warm).toFixed(1)}× list); goal ≤ 250 ms`]);
    rows.push(['list, the same: the first list after the logs were written', `${fmt(cold)} ms`, x(cold), 'reads each log once, from the start of its boot record (a shut-off domain: the whole file)']);
  } finally {
    spawnSync(TH, ['down', 'bench']);
    rmSync(dir, { recursive: true, force: true });
  }
}

// 5d. Reads while another domain is being destroyed (issue 25): 50 defined domains and a running
// guest whose QEMU is stopped (SIGSTOP) and then destroyed, so libvirt holds that domain's lock for
// ~10 s until its SIGKILL. `list` (domains from libvirtd's state files) against the API's listing
// (FLAKEVIRT_DOMAIN_SOURCE=libvirt, the naive way: it waits for the destroy), both also timed with
// nothing being destroyed, and against `node -e 0`.
async function busyBench() {
  const { dir, tiny, boot, head } = fleetHost();
  const fifty = join(dir, 'fifty.yaml');
  writeFileSync(fifty, `${head}guests:\n${Array.from({ length: 50 }, (_, i) => `  r${String(i + 1).padStart(2, '0')}: { ${boot} }`).join('\n')}\n`);
  const one = join(dir, 'one.yaml');
  writeFileSync(one, `${head}guests:\n  victim: { ${boot} }\n`);
  await defineFlakevirtDomains(dir, tiny, fifty);
  const nsRoot = `/proc/${readFileSync('/run/flakevirt-testhost/bench/ns.pid', 'utf8').trim()}/root`;
  try {
    const up = await timedFlakevirt(['up', '-f', one, '--timeout', '300']);
    if (up.status !== 0) throw new Error('bench: up of the guest to destroy failed');
    await settle();
    const nsOnly = time(['true']);
    const node = time([process.execPath, '-e', '0']) - nsOnly;
    const list = ['list', '-f', fifty, '--json'];
    const files = time([CLI, ...list]) - nsOnly;
    const api = time(['env', 'FLAKEVIRT_DOMAIN_SOURCE=libvirt', CLI, ...list]) - nsOnly;
    const pid = Number(readFileSync(join(nsRoot, 'run/libvirt/qemu/victim.pid'), 'utf8'));
    process.kill(pid, 'SIGSTOP');
    const destroy = spawn(TH, ['exec', 'bench', '--', 'virsh', '-q', '-c', 'qemu:///system', 'destroy', 'victim'], { stdio: 'ignore' });
    const destroyed = new Promise((r) => destroy.on('exit', r));
    const t0 = performance.now();
    for (let i = 0; i < 100 && !(BigInt(`0x${/ShdPnd:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]}`) & (1n << 14n)); i++) await new Promise((r) => setTimeout(r, 50));
    const apiRun = new Promise((resolve) => {
      const t = performance.now();
      const p = spawn(TH, ['exec', 'bench', '--', 'env', 'FLAKEVIRT_DOMAIN_SOURCE=libvirt', CLI, ...list], { stdio: 'ignore' });
      p.on('exit', () => resolve(performance.now() - t - nsOnly));
    });
    // Rounds of the file-based list, all inside the destroy's window (each well under a second).
    const during = Math.max(0, time([CLI, ...list]) - nsOnly);
    const apiDuring = await apiRun;
    await destroyed;
    const window = performance.now() - t0;
    const x = (ms) => `${(ms / node).toFixed(1)}× node -e 0`;
    rows.push([`node -e 0 (the yardstick, median of ${rounds})`, `${fmt(node)} ms`, '', '']);
    rows.push(['list, 50 defined domains + 1 running, nothing destroyed', `${fmt(files)} ms`, x(files), `the API's listing ${fmt(api)} ms (${(api / files).toFixed(2)}× list)`]);
    rows.push(['list while another domain is destroyed (its QEMU stopped: ~10 s)', `${fmt(during)} ms`, x(during), `the API's listing ${fmt(apiDuring)} ms (${(apiDuring / during).toFixed(1)}× list); the destroy took ${fmt(window)} ms; goal: not waiting`]);
  } finally {
    inHost([CLI, 'down', '--all', '-f', one]);
    spawnSync(TH, ['down', 'bench']);
    rmSync(dir, { recursive: true, force: true });
  }
}

// 5b. Checkpoint and reset: back to a known running state, against reimage and a cold boot, at
// several memory sizes. Each ends when the guest's ssh answers again. A third of the guest's
// memory holds random data (written to its RAM-backed root), as a guest in use would.
async function checkpointBench() {
  const dir = mkdtempSync('/var/tmp/flakevirt-bench-');
  chmodSync(dir, 0o755);
  execFileSync(TH, ['up', 'bench'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const tiny = execFileSync(join(ROOT, 'scripts', 'tiny-guest.sh'), { encoding: 'utf8' }).trim();
    const key = join(dir, 'key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    // Polls the guest's ssh port (a new connection every 100 ms) until it sends its banner.
    const probe = join(dir, 'probe.mjs');
    writeFileSync(probe, `import net from 'node:net';
const ip = process.argv[2];
for (const end = Date.now() + 120000; Date.now() < end;) {
  const ok = await new Promise((r) => { const s = net.connect({ host: ip, port: 22 }); s.setTimeout(250, () => { s.destroy(); r(false); }); s.once('connect', () => s.setTimeout(5000)); s.once('data', () => { s.destroy(); r(true); }); s.once('error', () => r(false)); s.once('close', () => r(false)); });
  if (ok) process.exit(0);
  await new Promise((r) => setTimeout(r, 100));
}
process.exit(1);
`);
    const ssh = (ip, cmd) => inHost(['ssh', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', `root@${ip}`, cmd]);
    const timed = (f) => { const t = performance.now(); f(); return performance.now() - t; };
    const must = (r, what) => { if (r.status !== 0) throw new Error(`bench: ${what}: ${r.stderr}`); return r; };
    const cells = [];
    for (const mib of resetSizes) {
      const spec = join(dir, `reset-${mib}.yaml`);
      const name = `rs-${mib}`;
      writeFileSync(spec, `pool: ${dir}/pool\naccel: tcg\nsshKeyFiles: [${key}.pub]\nguests:\n  ${name}: { memory: ${mib}MiB, vcpus: 2, diskSize: 1GiB, image: ${tiny}/base.qcow2, kernel: ${tiny}/vmlinuz, initrd: ${tiny}/initrd.img, cmdline: "console=ttyS0 quiet", disks: { /dev/vdb: { size: 64MiB, format: qcow2 } } }\n`);
      const up = must(inHost([CLI, 'up', '-f', spec, '--wait', 'ssh', '--timeout', '300']), 'up');
      const ip = /\s(\d+\.\d+\.\d+\.\d+)\s/.exec(up.stdout)[1];
      must(ssh(ip, `dd if=/dev/urandom of=/tmp/fill bs=1M count=${Math.floor(mib / 3)} 2>/dev/null; sync`), 'filling memory');
      await settle();
      let taken;
      const take = timed(() => { taken = must(inHost([CLI, 'checkpoint', '-f', spec]), 'checkpoint'); });
      const size = /memory ([\d.]+ \w+)/.exec(taken.stdout)?.[1] ?? '?';
      const resets = [];
      const resetsSsh = [];
      for (let r = 0; r < rounds; r++) {
        ssh(ip, 'dd if=/dev/urandom of=/dev/vdb bs=1M count=8 conv=fsync 2>/dev/null');
        resets.push(timed(() => must(inHost([CLI, 'reset', '-f', spec]), 'reset')));
        ssh(ip, 'dd if=/dev/urandom of=/dev/vdb bs=1M count=8 conv=fsync 2>/dev/null');
        resetsSsh.push(timed(() => must(inHost([CLI, 'reset', '-f', spec, '--wait', 'ssh']), 'reset --wait ssh')));
      }
      // loadvm alone (the monitor command through virsh), for what dominates.
      const tag = JSON.parse(inHost([CLI, 'checkpoints', '-f', spec, '--json']).stdout)[0].tag;
      const load = median(Array.from({ length: 3 }, () => timed(() => must(inHost(['virsh', '-q', '-c', 'qemu:///system', 'qemu-monitor-command', '--hmp', name, `loadvm ${tag}`]), 'loadvm'))));
      const reimage = timed(() => { must(inHost([CLI, 'reimage', '-f', spec, '--timeout', '300']), 'reimage'); must(inHost([process.execPath, probe, ip]), 'ssh after reimage'); });
      const cold = timed(() => { must(inHost(['virsh', '-q', '-c', 'qemu:///system', 'destroy', name]), 'destroy'); must(inHost(['virsh', '-q', '-c', 'qemu:///system', 'start', name]), 'start'); must(inHost([process.execPath, probe, ip]), 'ssh after start'); });
      cells.push({ mib, reset: median(resets), resetSsh: median(resetsSsh), take, size, load, reimage, cold });
      inHost([CLI, 'down', '--all', '-f', spec]);
    }
    for (const c of cells) {
      rows.push([`reset, ${c.mib} MiB guest (median of ${rounds}; memory state ${c.size})`, `${fmt(c.reset)} ms, to ssh ${fmt(c.resetSsh)} ms (loadvm ${fmt(c.load)} ms)`, `to ssh: reimage ${fmt(c.reimage)} ms, cold boot ${fmt(c.cold)} ms`, `to ssh ${(c.reimage / c.resetSsh).toFixed(1)}× faster than reimage, ${(c.cold / c.resetSsh).toFixed(1)}× than a cold boot; checkpoint ${fmt(c.take)} ms`]);
    }
  } finally {
    spawnSync(TH, ['down', 'bench']);
    rmSync(dir, { recursive: true, force: true });
  }
}

// 8. Imageless (issue 23): a kernel change reaching a running guest. `up` after the bzImage and
// modules change (the guest restarts on the new kernel, lease for its new boot) against `reimage` of
// an image guest, and against installing the kernel in an image guest and rebooting (modelled as a
// reimage plus one more boot). The closure is the stand-in's (test/fixtures/nix), the guests the
// tiny guest's programs: the boots are TCG boots of the same kernel, so the ratios compare what each
// way adds; flakevirt's own part is everything but destroy, QEMU start and the boot to the lease.
async function imagelessBench() {
  const { nixFixture, upstreamMissing } = await import('../test/helpers/nix-fixture.mjs');
  if (upstreamMissing()) { rows.push(['imageless kernel change', `skipped: ${upstreamMissing()}`, '', '']); return; }
  const dir = mkdtempSync('/var/tmp/flakevirt-bench-');
  chmodSync(dir, 0o755);
  execFileSync(TH, ['up', 'bench'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pair = (w) => execFileSync(join(ROOT, 'scripts', 'kernel-pair.sh'), [w], { encoding: 'utf8' }).trim();
  try {
    const tiny = execFileSync(join(ROOT, 'scripts', 'tiny-guest.sh'), { encoding: 'utf8' }).trim();
    const kernels = [pair('tiny'), pair('other')];
    const fx = nixFixture(dir, { userland: `${tiny}/initrd.img` });
    const spec = join(dir, 'imageless.yaml');
    // The developer's loop: the spec names one bzImage and modules directory; each round a new build
    // lands there (the bzImage replaced, modules_install writing its release directory anew).
    const k = join(dir, 'k');
    const land = (from) => {
      const release = readFileSync(join(from, 'release'), 'utf8').trim();
      execFileSync('mkdir', ['-p', join(k, 'lib', 'modules')]);
      execFileSync('cp', [join(from, 'bzImage'), join(k, 'bzImage.new')]);
      execFileSync('mv', [join(k, 'bzImage.new'), join(k, 'bzImage')]);
      execFileSync('rm', ['-rf', join(k, 'lib', 'modules', release)]);
      execFileSync('cp', ['-a', join(from, 'lib', 'modules', release), join(k, 'lib', 'modules', release)]);
      execFileSync('chmod', ['-R', 'a+rX', k]);
    };
    land(kernels[0]);
    writeFileSync(spec, `pool: ${dir}/pool\naccel: tcg\nnixosFlake: ${fx.nixosFlake}\ndefaults: { memory: 512MiB, vcpus: 2, profiles: [] }\nguests:\n  bi-1: { imageless: { bzImage: ${k}/bzImage, modules: ${k}/lib/modules }, disks: { /dev/vdb: { size: 64MiB } } }\n  bm-1: { diskSize: 1GiB, image: ${tiny}/base.qcow2, kernel: ${tiny}/vmlinuz, initrd: ${tiny}/initrd.img, cmdline: "console=ttyS0 quiet", disks: { /dev/vdb: { size: 64MiB } } }\n`);
    const fv = (argv) => timedFlakevirt(argv, 'bench', fx.env);
    const up = await fv(['up', '-f', spec, '--timeout', '300']);
    if (up.status !== 0) throw new Error('bench: imageless up failed');
    // The parts of one run: destroy (stopping → the next step), QEMU start, the boot to the lease; the rest is flakevirt's.
    const parts = (run) => {
      const iStop = run.lines.findIndex((l) => /\] stopping/.test(l.text));
      const tStop = run.lines[iStop]?.at;
      const tNext = run.lines.slice(iStop + 1).find((l) => /\] /.test(l.text))?.at;
      const tStart = when(run, /\] starting/);
      const tWait = when(run, /waiting for a fresh DHCP lease/);
      const tLease = when(run, /\] lease /);
      const total = run.end - run.t0;
      const destroy = tNext - tStop;
      const start = tWait - tStart;
      const boot = tLease - tWait;
      return { total, destroy, start, boot, own: total - destroy - start - boot };
    };
    const swaps = [];
    const reimages = [];
    const extraBoots = [];
    for (let b = 0; b < boots; b++) {
      await settle();
      land(kernels[(b + 1) % 2]);
      const run = await fv(['up', '-f', spec, 'bi-1', '--timeout', '300']);
      if (run.status !== 0 || !run.lines.some((l) => /changed: kernel: /.test(l.text))) throw new Error('bench: the kernel change did not restart bi-1');
      swaps.push(parts(run));
      if (process.env.BENCH_TRACE) for (const l of run.lines) console.error(`${l.at - run.t0} ${l.text}`);
      await settle();
      const re = await fv(['reimage', '-f', spec, 'bm-1', '--timeout', '300']);
      if (re.status !== 0) throw new Error('bench: reimage failed');
      reimages.push(parts(re));
      // One more boot of the image guest: what "install the kernel in it, then reboot" adds.
      await settle();
      inHost(['virsh', '-q', '-c', 'qemu:///system', 'destroy', 'bm-1']);
      const again = await fv(['up', '-f', spec, 'bm-1', '--timeout', '300']);
      if (again.status !== 0) throw new Error('bench: restart failed');
      extraBoots.push(again.end - again.t0);
    }
    const nodeStart = median(Array.from({ length: 5 }, () => { const t = performance.now(); execFileSync(process.execPath, ['-e', '0']); return performance.now() - t; }));
    // What entering the test host costs (testhost.sh, nsenter): not flakevirt's, taken out of its part.
    const enter = median(Array.from({ length: 5 }, () => { const t = performance.now(); inHost(['true']); return performance.now() - t; }));
    for (const x of swaps) x.own -= enter;
    const m = (xs, k) => median(xs.map((o) => o[k]));
    const swap = m(swaps, 'total');
    const reimage = m(reimages, 'total');
    const install = reimage + median(extraBoots);
    rows.push([`imageless kernel change → guest up on it with a lease (median of ${boots})`, `${fmt(swap)} ms (destroy ${fmt(m(swaps, 'destroy'))} + start ${fmt(m(swaps, 'start'))} + boot ${fmt(m(swaps, 'boot'))})`, `reimage ${fmt(reimage)} ms (${(reimage / swap).toFixed(1)}×), install + reboot ${fmt(install)} ms (${(install / swap).toFixed(1)}×)`, `flakevirt's own ${fmt(m(swaps, 'own'))} ms (goal ≤ 300; node -e 0 ${fmt(nodeStart)} ms, ${(m(swaps, 'own') / nodeStart).toFixed(1)}×; entering the test host, ${fmt(enter)} ms, not counted)`]);
  } finally {
    spawnSync(TH, ['down', 'bench']);
    rmSync(dir, { recursive: true, force: true });
  }
}

// 6. Read path: whole-process time of `list` and `ips` (Node start-up included) vs `virsh list` + a virsh call per domain.
async function readBench() {
  const env = { ...process.env, LIBVIRT_DEFAULT_URI: 'test:///default' };
  const time = (cmd, a) => {
    const xs = [];
    for (let r = 0; r < rounds; r++) {
      const t = performance.now();
      spawnSync(cmd, a, { env, stdio: 'ignore', cwd: '/' });
      xs.push(performance.now() - t);
    }
    return median(xs);
  };
  const list = time(process.execPath, [CLI, 'list', '--json']);
  const version = time(process.execPath, [CLI, '--version']);
  rows.push([`read path on test:///default (median of ${rounds})`, `flakevirt list ${fmt(list)} ms`, `flakevirt --version ${fmt(version)} ms`, '']);
}

// 7. Multi-host: 6 guests over 3 hosts (the controller's own + two qemu+ssh test hosts with sshd)
// vs the same 6 on one host — time to the first and the last lease — and the uploads counted per
// host against uploading per guest. The test hosts share this machine's cores, so spreading cannot
// make boots faster here: the figures show what the remote path costs.
async function multihostBench() {
  const names = ['benchc', 'bench1', 'bench2'];
  const dir = mkdtempSync('/var/tmp/flakevirt-bench-');
  chmodSync(dir, 0o755);
  try {
    for (const n of names) execFileSync(TH, ['up', n], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
    for (const [i, n] of [[51, 'bench1'], [52, 'bench2']]) {
      execFileSync(TH, ['link', n, 'benchc', String(i)]);
      execFileSync(TH, ['sshd', n, 'start'], { env: { ...process.env, TESTHOST_AUTHORIZED_KEYS: join(dir, 'key.pub') } });
    }
    const tiny = execFileSync(join(ROOT, 'scripts', 'tiny-guest.sh'), { encoding: 'utf8' }).trim();
    const guests = Array.from({ length: 6 }, (_, i) => `  m${i + 1}: { image: ${tiny}/base.qcow2, kernel: ${tiny}/vmlinuz, initrd: ${tiny}/initrd.img, cmdline: "console=ttyS0 quiet" }`).join('\n');
    const uri = (i) => `"qemu+ssh://root@10.231.${i}.2/system?keyfile=${dir}/key&no_verify=1"`;
    const head = `accel: tcg\ndefaults: { memory: 256MiB, vcpus: 1, diskSize: 1GiB }\n`;
    const spread = join(dir, 'spread.yaml');
    writeFileSync(spread, `pool: ${dir}/pool-spread\n${head}hosts:\n  local: { connect: "qemu:///system" }\n  box1: { connect: ${uri(51)} }\n  box2: { connect: ${uri(52)} }\nguests:\n${guests}\n`);
    const one = join(dir, 'one.yaml');
    writeFileSync(one, `pool: ${dir}/pool-one\n${head}guests:\n${guests}\n`);
    const measure = async (spec) => {
      const run = await timedFlakevirt(['up', '-f', spec, '--timeout', '300'], 'benchc');
      if (run.status !== 0) throw new Error(`bench: multi-host up failed: ${run.lines.map((l) => l.text).join('\n')}`);
      const leases = run.lines.filter((l) => /\] lease /.test(l.text)).map((l) => l.at - run.t0);
      const uploads = run.lines.filter((l) => /\] uploading \S+ \(\S+\) to /.test(l.text)).map((l) => /to (\S+)$/.exec(l.text)[1]);
      spawnSync(TH, ['exec', 'benchc', '--', CLI, 'down', '--all', '-f', spec]);
      return { first: Math.min(...leases), last: Math.max(...leases), uploads };
    };
    const a = await measure(spread);
    const b = await measure(one);
    rows.push(['6 guests over 3 hosts vs on 1 host', `first lease ${fmt(a.first)} ms, last ${fmt(a.last)} ms`, `1 host: first ${fmt(b.first)} ms, last ${fmt(b.last)} ms`, `${(a.last / b.last).toFixed(2)}× the one-host time`]);
    const perHost = Object.entries(a.uploads.reduce((m, h) => ({ ...m, [h]: (m[h] ?? 0) + 1 }), {})).map(([h, n]) => `${h} ${n}`).join(', ');
    rows.push(['uploads for the 4 remote guests (base, kernel, initrd)', `${a.uploads.length} (${perHost})`, `per guest would be ${4 * 3}`, `${((4 * 3) / Math.max(1, a.uploads.length)).toFixed(0)}× fewer`]);
  } finally {
    for (const n of names) spawnSync(TH, ['down', n]);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (only.includes('overlay')) await overlayBench();
if (process.getuid() === 0 && (only.includes('lease') || only.includes('reimage'))) await leaseAndReimageBench();
else if (only.includes('lease')) rows.push(['lease detection / reimage', 'skipped: needs root', '', '']);
if (process.getuid() === 0 && only.includes('fleet')) await fleetBench();
if (process.getuid() === 0 && (only.includes('read') || only.includes('everyday'))) await everydayBench();
if (only.includes('read')) await readBench();
if (process.getuid() === 0 && only.includes('checkpoint')) await checkpointBench();
if (process.getuid() === 0 && only.includes('multihost')) await multihostBench();
if (process.getuid() === 0 && only.includes('imageless')) await imagelessBench();
if (process.getuid() === 0 && only.includes('health')) await healthBench();
if (process.getuid() === 0 && only.includes('busy')) await busyBench();

const host = `${execFileSync('nproc').toString().trim()} cores, ${(Number(execFileSync('awk', ['/MemTotal/ {print $2}', '/proc/meminfo']).toString()) / 1048576).toFixed(0)} GiB, ${execFileSync('qemu-system-x86_64', ['--version']).toString().split('\n')[0]}`;
console.log(`flakevirt benchmarks — ${host}\n`);
const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
for (const r of rows) console.log(r.map((c, i) => (c ?? '').padEnd(w[i])).join('  │  '));
