/** Terminal output: one updating progress line (on stderr) and plain-text tables (on stdout). */

export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private current = '';
  private lastPlain = 0;

  /** Replaces the progress line (on a terminal); elsewhere prints it at most every 15 s. */
  update(text: string): void {
    this.current = text;
    if (this.tty) {
      const width = process.stderr.columns || 120;
      process.stderr.write(`\r\x1b[K${text.slice(0, width - 1)}`);
    } else if (Date.now() - this.lastPlain > 15_000) {
      this.lastPlain = Date.now();
      process.stderr.write(`… ${text}\n`);
    }
  }

  /** Prints a line of results above the progress line. */
  log(line = ''): void {
    if (this.tty && this.current) process.stderr.write('\r\x1b[K');
    process.stdout.write(`${line}\n`);
    if (this.tty && this.current) this.update(this.current);
  }

  /** A new phase: on a terminal the line is replaced; elsewhere it is printed at once. */
  phase(text: string): void {
    this.lastPlain = 0;
    this.update(text);
  }

  clear(): void {
    if (this.tty && this.current) process.stderr.write('\r\x1b[K');
    this.current = '';
  }
}

export type Align = 'l' | 'r';

/** A plain-text table: columns padded, numbers right-aligned. */
export function table(headers: string[], rows: string[][], align: Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => ((align[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? (c ?? '').padEnd(widths[i]) : (c ?? '').padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** A number with sensible precision for a table cell. */
export function num(v: number | undefined, digits = 3): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return v.toPrecision(digits);
}

export function ms(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function ratio(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return v >= 10 ? `${v.toFixed(0)}×` : v >= 1 ? `${v.toFixed(1)}×` : v >= 0.01 ? `${v.toFixed(2)}×` : `${v.toPrecision(1)}×`;
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - m * 60)} s`;
}

/** One row in fixed-width columns (for rows printed as they come, before the final table). */
export function fixedRow(cells: string[], widths: number[], align: Align[] = []): string {
  return cells
    .map((c, i) => {
      const w = Math.max(widths[i] ?? 0, c.length);
      return (align[i] ?? 'r') === 'l' ? c.padEnd(w) : c.padStart(w);
    })
    .join('  ')
    .trimEnd();
}
