// Per-guest progress: on a terminal, a live block with each guest's stage and elapsed time;
// otherwise (or with --json) plain "[guest +1.2s] stage" lines on stderr, one per event.
import type { Progress } from './runner.js';

interface Row {
  stage: string;
  started: number;
  ended?: number;
}

export class ProgressView {
  private rows = new Map<string, Row>();
  private timer?: NodeJS.Timeout;
  private render?: ((text: string) => void) & { done(): void };
  private readonly live: boolean;

  constructor(private readonly quiet = false, private readonly stream: NodeJS.WriteStream = process.stderr) {
    // A terminal with no size (a bare pty) gets plain lines: a live view needs rows to draw in.
    this.live = !quiet && !!stream.isTTY && process.env.TERM !== 'dumb' && (stream.rows ?? 0) > 0;
  }

  /** Starts the live view (loads log-update only on a terminal). */
  async start(): Promise<void> {
    if (!this.live) return;
    const { createLogUpdate } = await import('log-update');
    this.render = createLogUpdate(this.stream, { showCursor: true });
    this.timer = setInterval(() => this.draw(), 250);
  }

  /** The reporter for one guest. */
  for(name: string): Progress {
    const started = Date.now();
    this.rows.set(name, this.rows.get(name) ?? { stage: 'queued', started });
    return (stage) => {
      const row = this.rows.get(name)!;
      row.stage = stage;
      if (this.live) this.draw();
      else if (!this.quiet) this.stream.write(`[${name} +${((Date.now() - row.started) / 1000).toFixed(1)}s] ${stage}\n`);
    };
  }

  /** Marks a guest finished (its elapsed time stops). */
  end(name: string, stage: string): void {
    const row = this.rows.get(name);
    if (!row) return;
    row.stage = stage;
    row.ended = Date.now();
    if (this.live) this.draw();
  }

  private draw(): void {
    if (!this.render) return;
    const w = Math.max(...[...this.rows.keys()].map((n) => n.length));
    const cols = this.stream.columns || 100;
    this.render([...this.rows.entries()].map(([n, r]) => {
      const secs = (((r.ended ?? Date.now()) - r.started) / 1000).toFixed(1).padStart(6);
      return `${r.ended ? '✓' : '…'} ${n.padEnd(w)} ${secs}s  ${r.stage}`.slice(0, cols - 1);
    }).join('\n'));
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.render) {
      this.draw();
      this.render.done();
    }
  }
}
