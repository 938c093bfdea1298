// Every shell script under `set -o pipefail`: no pipeline whose reader may stop early (grep -q,
// grep -m, head, awk … exit). The writer then dies of SIGPIPE, the pipeline counts as failed, and
// `a | grep -q x || b` runs b although x was there — what made the test hosts' `net-start` fail on a
// machine whose default network was already active.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';

const scripts = [
  ...readdirSync(join(REPO_ROOT, 'scripts')).filter((f) => f.endsWith('.sh')).map((f) => join('scripts', f)),
  join('.ci', 'run'),
];
const EARLY_READER = /\|\s*(grep\s+-[A-Za-z]*[qm]|head\b|awk\b[^|]*\bexit\b|sed\b[^|]*\bq\b)/;

/** The lines of a script that pipe into a reader that may exit before its input ends. */
export function earlyReaders(text: string): string[] {
  if (!/set\s+-[a-z]*o\s+pipefail|set\s+-o\s+pipefail/.test(text)) return [];
  return text.split('\n').filter((l) => !/^\s*#/.test(l) && EARLY_READER.test(l));
}

describe('shell scripts under pipefail', () => {
  it('the check itself finds the pattern that broke testhost.sh', () => {
    expect(earlyReaders("set -euo pipefail\nvirsh net-info default | grep -q 'Active:.*yes' || virsh net-start default\n")).toHaveLength(1);
    expect(earlyReaders('set -euo pipefail\nk=$(apt-cache depends x | awk \'/Depends/ { print $2; exit }\')\n')).toHaveLength(1);
    expect(earlyReaders('set -euo pipefail\nv=$(qemu --version | head -n1)\n')).toHaveLength(1);
    expect(earlyReaders('set -euo pipefail\nx=$(ip netns list | awk \'{ print $1 }\')\n')).toHaveLength(0);
  });

  it.each(scripts)('%s has no pipeline into an early-exiting reader', (file) => {
    expect(earlyReaders(readFileSync(join(REPO_ROOT, file), 'utf8'))).toEqual([]);
  });
});
