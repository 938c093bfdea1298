// The facts read commands take from each domain's XML (ownership, MACs, networks, console log,
// boot record, memory: ownership.ts), kept between runs by the XML's hash, one file per libvirt
// URI in flakevirt's private cache directory. `list`, `ips`, `inventory --list` (which Ansible runs
// on every call) and placement then parse only the domains whose XML changed since the last run:
// parsing 50 domains cold took ~80 ms of a ~400 ms `list`. A directory anyone else could write is
// not believed (a planted entry could claim a foreign domain for flakevirt), and then every
// domain is parsed.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { domainFacts, type DomainFacts } from '../ownership.js';
import type { BootRecord } from '../render/boot-record.js';
import type { CheckpointRecord } from '../render/checkpoint-record.js';
import { writeOwnFile } from './private-dir.js';
import { areaDir } from './file-cache.js';

const VERSION = 2;

type StoredBoot = { startedAt: number; before: Array<[string, number]>; lease?: string; logFrom?: number };
type Stored = Omit<DomainFacts, 'boot' | 'checkpoints'> & { boot?: StoredBoot; checkpoints?: Array<Omit<CheckpointRecord, 'boot'> & { boot?: StoredBoot }> };

const storeBoot = (b: BootRecord): StoredBoot => ({ ...b, before: [...b.before] });
const loadBoot = (b: StoredBoot): BootRecord => ({ ...b, before: new Map(b.before) });

function toStored(f: DomainFacts): Stored {
  const { boot, checkpoints, ...rest } = f;
  return { ...rest, ...(boot && { boot: storeBoot(boot) }), ...(checkpoints && { checkpoints: checkpoints.map(({ boot: b, ...c }) => ({ ...c, ...(b && { boot: storeBoot(b) }) })) }) };
}

function fromStored(s: Stored): DomainFacts {
  const { boot, checkpoints, ...rest } = s;
  return { ...rest, ...(boot && { boot: loadBoot(boot) }), ...(checkpoints && { checkpoints: checkpoints.map(({ boot: b, ...c }) => ({ ...c, ...(b && { boot: loadBoot(b) }) })) }) };
}


const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The facts of each domain XML (in order), from the cache where the XML is unchanged. */
export async function factsOf(uri: string, xmls: string[]): Promise<DomainFacts[]> {
  const d = areaDir('domain-facts');
  const file = d && join(d, `${sha(uri).slice(0, 32)}.json`);
  const kept = file ? await readFile(file, 'utf8').then((t) => JSON.parse(t) as { version: number; uri: string; facts: Record<string, Stored> }, () => undefined) : undefined;
  const known = kept?.version === VERSION && kept.uri === uri ? kept.facts : {};
  const now: Record<string, Stored> = {};
  let changed = false;
  const out = xmls.map((xml) => {
    const h = sha(xml);
    const hit = known[h];
    if (hit) {
      now[h] = hit;
      return fromStored(hit);
    }
    changed = true;
    const f = domainFacts(xml);
    now[h] = toStored(f);
    return f;
  });
  // Entries of domains that are gone (or changed) are dropped, so the file stays one host's size.
  if (file && (changed || Object.keys(now).length !== Object.keys(known).length)) {
    await writeOwnFile(file, JSON.stringify({ version: VERSION, uri, facts: now }), 0o600).catch(() => undefined);
  }
  return out;
}
