// Telling pkit-runtime's own failure apart from the container's stderr (run, exec).

/**
 * The runtime's own error (one "pkit-runtime: ..." line, before the container's command ran)
 * is held back from the start of stderr; when the run ends with 125/126/127 it is printed as
 * prun's "Error: ..." line, otherwise as it came. Everything else passes through unchanged.
 */
export class StderrFilter {
  private static readonly PREFIX = 'pkit-runtime: ';
  private mode: 'sniff' | 'pass' = 'sniff';
  private pending = Buffer.alloc(0);
  private held: string | undefined;
  private readonly out: (chunk: Buffer) => void;

  constructor(out: (chunk: Buffer) => void = (c) => process.stderr.write(c)) {
    this.out = out;
  }

  write(chunk: Buffer): void {
    if (this.mode === 'pass') {
      this.out(chunk);
      return;
    }
    this.pending = Buffer.concat([this.pending, chunk]);
    const text = this.pending.toString('latin1');
    const p = StderrFilter.PREFIX;
    if (text.length < p.length ? !p.startsWith(text) : !text.startsWith(p)) {
      this.flushPending();
      return;
    }
    const nl = this.pending.indexOf(0x0a);
    if (nl === -1) return;
    this.held = this.pending.subarray(0, nl).toString('utf8');
    const rest = this.pending.subarray(nl + 1);
    this.pending = Buffer.alloc(0);
    this.mode = 'pass';
    if (rest.length) this.out(rest);
  }

  private flushPending(): void {
    this.mode = 'pass';
    if (this.pending.length) this.out(this.pending);
    this.pending = Buffer.alloc(0);
  }

  end(exitCode: number): void {
    if (this.held !== undefined) {
      if (exitCode >= 125 && exitCode <= 127) process.stderr.write(`Error: ${this.held.slice(StderrFilter.PREFIX.length)}\n`);
      else process.stderr.write(`${this.held}\n`);
      this.held = undefined;
    }
    this.flushPending();
  }
}
