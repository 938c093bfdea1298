// Every bad input is rejected with an issue naming the field and the fix.
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../src/spec/parse.js';
import { cases } from '../helpers/corpus.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG me@host';

/** A one-guest spec with `guest` lines (YAML, indented 4) under guests.g1. */
function spec(guest: string, top = ''): string {
  return `${top}sshKeys: ["${KEY}"]\nguests:\n  g1:\n${guest.split('\n').map((l) => `    ${l}`).join('\n')}\n`;
}

describe('invalid specs', () => {
  it('has a large corpus', () => expect(cases.length).toBeGreaterThanOrEqual(40));
  it.each(cases)('%s', (_name, text, path, message) => {
    const r = parseSpec(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const hit = r.issues.find((i) => i.path.startsWith(path) && message.test(i.message));
    expect(hit, `issues were:\n${r.issues.map((i) => `${i.path}: ${i.message}`).join('\n')}`).toBeDefined();
  });

  it('reports every issue at once, not just the first', () => {
    const r = parseSpec(spec('memory: 4GB\nvcpus: 0\ndisks:\n  /dev/sdb: { size: 1GiB }'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.path)).toEqual(expect.arrayContaining(['guests.g1.memory', 'guests.g1.vcpus']));
  });
});

describe('warnings', () => {
  it('accepts a logical block larger than 4 KiB with a warning about the guest kernel', () => {
    const r = parseSpec(spec('disks:\n  /dev/nvme0n1: { size: 1GiB, logicalBlockSize: 16384 }'));
    expect(r.ok).toBe(true);
    expect(r.warnings[0]?.message).toMatch(/larger than the 4 KiB page/);
  });
});
