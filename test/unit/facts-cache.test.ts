// adapters/facts-cache.ts: what read commands take from domain XML, kept by the XML's hash.
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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
});
