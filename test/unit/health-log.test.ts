// adapters/health-log.ts: a guest's current boot read from its console log, only what the log
// gained since the last read (kept in the cache area kernel-health), across restarts, rotation
// and shut-off domains; adapters/read-head.ts readFileFrom never follows a link or blocks on a FIFO.
import { afterAll, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, utimesSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { bootRegion, bootReports, followBoot, healthOfLogs, type BootRegion } from '../../src/adapters/health-log.js';
import { readFileFrom } from '../../src/adapters/read-head.js';
import type { GuestPaths } from '../../src/render/paths.js';

const scratch = mkdtempSync(join(tmpdir(), 'flakevirt-health-log-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const banner = '[    0.000000] Linux version 6.12.95+deb12-cloud-amd64 (debian-kernel@lists.debian.org) (gcc) #1 SMP\n';
const warning = '[    5.000000] WARNING: CPU: 0 PID: 1 at fs/a.c:1 f+0x1/0x2\n';
const panic = '[    9.000000] Kernel panic - not syncing: sysrq triggered crash\n';
let n = 0;

/** A log file and a reader that records where each read started. */
function setup(text: string) {
  const log = join(scratch, `console-${++n}.log`);
  writeFileSync(log, text);
  const reads: number[] = [];
  const store = { readConsoleFrom: (p: GuestPaths, from: number) => (reads.push(from), readFileFrom(p.console, from)) };
  const paths = { console: log } as GuestPaths;
  const uri = `test:///health-log-${process.pid}-${n}`;
  const health = async (region: BootRegion) => (await healthOfLogs(uri, [{ store, paths, region }]))[0];
  return { log, reads, store, paths, health };
}

describe('kernel health from the console log', () => {
  it('reads only what the log gained since the last read of the same boot', async () => {
    const fine = '[    1.000000] fine\n';
    const t = setup(banner + fine);
    const region = bootRegion({ startedAt: 100 });
    expect((await t.health(region))?.state).toBe('ok');
    appendFileSync(t.log, warning);
    expect(await t.health(region)).toMatchObject({ state: 'warn', count: 1 });
    appendFileSync(t.log, '[    6.000000] partial line without its newline');
    expect((await t.health(region))?.state).toBe('warn');
    appendFileSync(t.log, ' now complete\n' + panic);
    expect(await t.health(region)).toMatchObject({ state: 'panic', count: 2, first: { name: 'WARNING' } });
    const sizes = [(banner + fine).length, (banner + fine + warning).length];
    expect(t.reads).toEqual([0, sizes[0], sizes[1], sizes[1]]);
  });

  it('a new start (another boot record) reads from the start again; so does a log that shrank', async () => {
    const t = setup(banner + panic);
    expect((await t.health(bootRegion({ startedAt: 100 })))?.state).toBe('panic');
    writeFileSync(t.log, banner); // libvirt truncates the log at a start (append off)
    expect((await t.health(bootRegion({ startedAt: 200 })))?.state).toBe('ok');
    expect(t.reads.at(-1)).toBe(0);
    appendFileSync(t.log, '[    1.000000] ' + 'x'.repeat(200) + '\n' + panic);
    expect((await t.health(bootRegion({ startedAt: 200 })))?.state).toBe('panic');
    writeFileSync(t.log, banner); // same boot record, the file shrank: read again
    expect((await t.health(bootRegion({ startedAt: 200 })))?.state).toBe('ok');
  });

  it('a reset boot (logFrom) counts only what came after it', async () => {
    const t = setup(banner + panic);
    const from = (banner + panic).length;
    appendFileSync(t.log, '[   20.000000] after the reset\n');
    expect((await t.health(bootRegion({ startedAt: 100, logFrom: from })))?.state).toBe('ok');
    expect((await t.health(bootRegion({ startedAt: 100 })))?.state).toBe('panic');
  });

  it('a log virtlogd rotated in the same boot: the reports before stay, the new file is read from its start', async () => {
    const t = setup(banner + warning);
    const region = bootRegion({ startedAt: 100 });
    expect((await t.health(region))?.state).toBe('warn');
    renameSync(t.log, `${t.log}.0`);
    writeFileSync(t.log, panic);
    expect(await t.health(region)).toMatchObject({ state: 'panic', count: 2 });
    expect(t.reads.at(-1)).toBe(0);
  });

  it('a shut-off domain: its last boot, read once while the file stays as it is', async () => {
    const t = setup(banner + panic + banner + warning);
    expect((await t.health(bootRegion(undefined)))?.state).toBe('warn');
    const size = (banner + panic + banner + warning).length;
    expect((await t.health(bootRegion(undefined)))?.state).toBe('warn');
    expect(t.reads).toEqual([0, size]);
    // A later run wrote the log again (same size, another time): read from the start.
    writeFileSync(t.log, banner + warning.replace('WARNING: CPU', 'xxxxxxxxxxxx') + panic + banner);
    utimesSync(t.log, new Date(), new Date(Date.now() + 5000));
    expect((await t.health(bootRegion(undefined)))?.state).toBe('ok');
    expect(t.reads.at(-1)).toBe(0);
  });

  it('several logs at once, in order, one of them missing', async () => {
    const a = setup(banner + panic);
    const b = setup(banner);
    const out = await healthOfLogs(`test:///health-log-many-${process.pid}`, [
      { store: a.store, paths: a.paths, region: { from: 0 } },
      { store: a.store, paths: { console: join(scratch, 'missing.log') } as GuestPaths, region: { from: 0 } },
      { store: b.store, paths: b.paths, region: { from: 0 } },
    ]);
    expect(out.map((h) => h?.state)).toEqual(['panic', undefined, 'ok']);
  });

  it('bootReports gives the traces; followBoot reads on while a boot is being written', async () => {
    const t = setup(banner + panic + '[    9.100000] Call Trace:\n[    9.200000] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---\n');
    const s = await bootReports(t.store, t.paths, { from: 0 });
    expect(s?.reports[0]?.excerpt).toHaveLength(3);
    const u = setup(banner);
    const f = followBoot(u.store, u.paths, { started: 1, from: 0 });
    expect((await f.health())?.state).toBe('ok');
    appendFileSync(u.log, panic);
    expect((await f.health())?.state).toBe('panic');
    expect(u.reads).toEqual([0, banner.length]);
    expect((await f.reports())?.reports[0]?.excerpt?.[0]).toMatch(/sysrq triggered crash/);
  });
});

describe('readFileFrom', () => {
  it('reads from an offset, as bytes, and past the end gives the size', async () => {
    const f = join(scratch, 'bytes');
    writeFileSync(f, Buffer.from([0x41, 0xff, 0x0a, 0x42]));
    expect(readFileFrom(f, 1)).toMatchObject({ text: '\xff\nB', size: 4 });
    expect(readFileFrom(f, 99)).toMatchObject({ text: '', size: 4 });
  });

  it('does not follow a symlink, and does not block on a FIFO put in the log\'s place', async () => {
    const target = join(scratch, 'secret');
    writeFileSync(target, 'root only\n');
    const link = join(scratch, 'link.log');
    symlinkSync(target, link);
    expect(readFileFrom(link, 0)).toBeUndefined();
    const fifo = join(scratch, 'fifo.log');
    execFileSync('mkfifo', [fifo]);
    expect(readFileFrom(fifo, 0)).toBeUndefined();
  });
});
