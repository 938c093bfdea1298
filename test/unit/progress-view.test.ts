// The per-guest progress view: live on a terminal, plain lines otherwise.
import { describe, expect, it } from 'vitest';
import { ProgressView } from '../../src/commands/progress-view.js';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = { isTTY, columns: 80, rows: 24, write: (s: string) => (chunks.push(String(s)), true), on: () => stream, once: () => stream, removeListener: () => stream, off: () => stream } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join('') };
}

describe('ProgressView', () => {
  it('prints one plain line per event when not on a terminal', async () => {
    const { stream, text } = fakeStream(false);
    const v = new ProgressView(false, stream);
    await v.start();
    v.for('g1')('creating root overlay');
    v.for('g2')('starting');
    v.finish();
    expect(text()).toMatch(/^\[g1 \+\d+\.\ds\] creating root overlay\n\[g2 \+\d+\.\ds\] starting\n$/);
  });

  it('redraws a block with every guest\'s stage and elapsed time on a terminal', async () => {
    const term = process.env.TERM;
    process.env.TERM = 'xterm-256color'; // CI may say "dumb"
    const { stream, text } = fakeStream(true);
    const v = new ProgressView(false, stream);
    await v.start();
    const a = v.for('alpha');
    v.for('b');
    a('waiting for a fresh DHCP lease');
    v.end('b', 'created, 192.168.122.5');
    v.finish();
    const out = text();
    expect(out).toMatch(/… alpha +\d+\.\ds {2}waiting for a fresh DHCP lease/);
    expect(out).toMatch(/✓ b +\d+\.\ds {2}created, 192\.168\.122\.5/);
    expect(out).toContain('\u001b['); // cursor movement: the block is redrawn in place
    process.env.TERM = term;
  });

  it('stays silent with --json', async () => {
    const { stream, text } = fakeStream(true);
    const v = new ProgressView(true, stream);
    await v.start();
    v.for('g1')('starting');
    v.finish();
    expect(text()).toBe('');
  });
});
