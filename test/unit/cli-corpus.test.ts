// Every spec of the bad-spec corpus, through the real CLI: `flakevirt up` exits 2 with the
// expected message and creates nothing (no pool, no directory, no domain on the test driver).
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { cases, INVALID_DIR } from '../helpers/corpus.js';

const CLI = join(REPO_ROOT, 'dist', 'cli.js');

function up(dir: string, file: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, 'up', '-f', file], { cwd: dir, env: { ...process.env, LIBVIRT_DEFAULT_URI: 'test:///default', HOME: dir } });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdout.resume();
    // 'close', not 'exit': the child's last stderr can arrive after its exit event.
    p.on('close', (status) => resolve({ status, stderr }));
  });
}

describe('the bad-spec corpus through the CLI', () => {
  it(`rejects all ${cases.length} with exit 2 and the expected message, creating nothing`, async () => {
    const failures: string[] = [];
    const queue = [...cases];
    await Promise.all([1, 2, 3, 4].map(async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const [file, , , message] = c;
        const dir = mkdtempSync(join(tmpdir(), 'flakevirt-corpus-'));
        cpSync(join(INVALID_DIR, file), join(dir, 'flakevirt.yaml'));
        const r = await up(dir, join(dir, 'flakevirt.yaml'));
        if (r.status !== 2) failures.push(`${file}: exit ${r.status}\n${r.stderr}`);
        else if (!message.test(r.stderr)) failures.push(`${file}: message not found in\n${r.stderr}`);
        else if (readdirSync(dir).join(',') !== 'flakevirt.yaml') failures.push(`${file}: created ${readdirSync(dir).join(', ')}`);
      }
    }));
    expect(failures).toEqual([]);
  }, 120_000);
});
