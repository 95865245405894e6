// Training progress: on a terminal, a bar per epoch redrawn in place with the running loss and
// metrics; elsewhere (logs, CI, pipes) one plain line per epoch. Keras's layout, TF.js's log names.

import type { Logs } from "./callbacks.js";

export interface ProgressSink {
  write(text: string): void;
  readonly isTTY?: boolean;
}

const fmt = (logs: Logs) =>
  Object.entries(logs)
    .map(([k, v]) => `${k}: ${Number.isFinite(v) ? v.toFixed(4) : String(v)}`)
    .join(" - ");

const seconds = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`);

export class Progress {
  private started = 0;
  private lastDraw = 0;
  constructor(
    private readonly out: ProgressSink,
    private readonly epochs: number,
    private readonly steps: number,
  ) {}

  epochBegin(epoch: number): void {
    this.started = Date.now();
    this.lastDraw = 0;
    if (!this.out.isTTY) return;
    this.out.write(`Epoch ${epoch + 1}/${this.epochs}\n`);
  }

  /** After `done` of the epoch's steps, with the running averages. */
  update(done: number, logs: Logs): void {
    if (!this.out.isTTY) return;
    const now = Date.now();
    if (done < this.steps && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 30;
    const filled = Math.round((done / this.steps) * width);
    const bar = "=".repeat(Math.max(0, filled - 1)) + (filled > 0 ? (done < this.steps ? ">" : "=") : "") + ".".repeat(width - filled);
    const elapsed = now - this.started;
    const eta = done > 0 ? (elapsed / done) * (this.steps - done) : 0;
    const time = done < this.steps ? `ETA ${seconds(eta)}` : seconds(elapsed);
    this.out.write(`\r\x1b[K${String(done).padStart(String(this.steps).length)}/${this.steps} [${bar}] ${time} - ${fmt(logs)}`);
  }

  epochEnd(epoch: number, logs: Logs): void {
    const elapsed = Date.now() - this.started;
    const perStep = this.steps > 0 ? `${Math.max(1, Math.round(elapsed / this.steps))}ms/step` : "";
    if (this.out.isTTY) this.out.write(`\r\x1b[K${this.steps}/${this.steps} [${"=".repeat(30)}] ${seconds(elapsed)} ${perStep} - ${fmt(logs)}\n`);
    else this.out.write(`Epoch ${epoch + 1}/${this.epochs} - ${seconds(elapsed)} ${perStep} - ${fmt(logs)}\n`);
  }
}
