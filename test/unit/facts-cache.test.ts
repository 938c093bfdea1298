// adapters/facts-cache.ts: what read commands take from domain XML, kept by the XML's hash.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { factsOf } from '../../src/adapters/facts-cache.js';
import { domainFacts } from '../../src/ownership.js';
import { cacheDir } from '../../src/adapters/private-dir.js';

const running = readFileSync(join(__dirname, '../fixtures/libvirt-xml/domain-running.xml'), 'utf8');
const inactive = readFileSync(join(__dirname, '../fixtures/libvirt-xml/domain-inactive.xml'), 'utf8');
const uri = `test:///facts-cache-${process.pid}`;
const file = join(cacheDir(), 'domain-facts', `${createHash('sha256').update(uri).digest('hex').slice(0, 32)}.json`);
afterAll(() => rmSync(file, { force: true }));

describe('factsOf', () => {
  it('gives what domainFacts gives, the boot record included, and keeps it by the XML', async () => {
    const [a, b] = await factsOf(uri, [running, inactive]);
    expect(a).toEqual(domainFacts(running));
    expect(b).toEqual(domainFacts(inactive));
    expect(a!.boot?.before).toBeInstanceOf(Map);
    // The second run reads the file: an entry edited there is what comes back.
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { facts: Record<string, { macs: string[] }> };
    const h = createHash('sha256').update(running).digest('hex');
    kept.facts[h]!.macs = ['52:54:00:00:00:99'];
    writeFileSync(file, JSON.stringify(kept));
    expect((await factsOf(uri, [running]))[0]!.macs).toEqual(['52:54:00:00:00:99']);
    // Changed XML is parsed again; entries of domains that are gone are dropped.
    const changed = running.replaceAll('52:54:00:c9:d0:d2', '52:54:00:c9:d0:d3');
    expect((await factsOf(uri, [changed]))[0]!.macs).toEqual(['52:54:00:c9:d0:d3']);
    expect(Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { facts: object }).facts)).toHaveLength(1);
  });

  it('does not believe a planted entry in a directory others can write (one could claim a foreign domain for flakevirt)', async () => {
    const dir = join(cacheDir(), 'domain-facts');
    const foreign = running.replace(/<metadata>[\s\S]*<\/metadata>/, '');
    expect(domainFacts(foreign).owner).toBeUndefined();
    // The entry an attacker would plant: the foreign domain's hash, with flakevirt's mark.
    const planted = { version: 2, uri, facts: { [createHash('sha256').update(foreign).digest('hex')]: { ...domainFacts(running), boot: undefined } } };
    writeFileSync(file, JSON.stringify(planted));
    const mode = statSync(dir).mode & 0o777;
    chmodSync(dir, 0o777);
    try {
      expect((await factsOf(uri, [foreign]))[0]!.owner).toBeUndefined();
    } finally {
      chmodSync(dir, mode);
    }
    // In flakevirt's own directory the same file is believed: the mode is what keeps it out.
    expect((await factsOf(uri, [foreign]))[0]!.owner).toBeDefined();
  });
});
