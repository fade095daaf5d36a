/**
 * A small SVG line-chart writer (no library): panels of series against N, both axes logarithmic,
 * one shared legend; a series keeps its color in every panel.
 */

export interface Series {
  name: string;
  points: { x: number; y: number }[];
  /** Drawn black and dashed (a reference such as the ceiling). */
  dashed?: boolean;
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function shortNumber(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (v >= 1) return `${+v.toPrecision(3)}`;
  return `${+v.toPrecision(2)}`;
}

/** 1-2-5 ticks, or decades only when the range is wide. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const steps = Math.log10(hi / lo) < 3 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of steps) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

/** A log-axis range around the values, at least one decade wide, with a margin. */
function logRange(values: number[]): [number, number] {
  const good = values.filter((v) => v > 0 && Number.isFinite(v));
  if (!good.length) return [1, 10];
  let lo = Math.min(...good) / 1.5;
  let hi = Math.max(...good) * 1.5;
  if (hi / lo < 10) {
    const mid = Math.sqrt(lo * hi);
    lo = mid / Math.sqrt(10);
    hi = mid * Math.sqrt(10);
  }
  return [lo, hi];
}

function panelSvg(panel: Panel, x0: number, y0: number, w: number, h: number, xValues: number[], colorOf: (s: Series) => string): string {
  const left = 60;
  const right = 12;
  const top = 28;
  const bottom = 40;
  const pw = w - left - right;
  const ph = h - top - bottom;
  const [xlo, xhi] = logRange(xValues);
  const [ylo, yhi] = logRange(panel.series.flatMap((s) => s.points.map((p) => p.y)));
  const sx = (x: number) => x0 + left + (Math.log10(x / xlo) / Math.log10(xhi / xlo)) * pw;
  const sy = (y: number) => y0 + top + ph - (Math.log10(y / ylo) / Math.log10(yhi / ylo)) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + left + pw / 2}" y="${y0 + 18}" text-anchor="middle" font-size="14" font-weight="bold">${esc(panel.title)}</text>`);
  for (const t of logTicks(ylo, yhi)) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${x0 + left}" x2="${x0 + left + pw}" y1="${y}" y2="${y}" stroke="#e8e8e8"/>`);
    out.push(`<text x="${x0 + left - 4}" y="${+y + 4}" text-anchor="end" font-size="10">${shortNumber(t)}</text>`);
  }
  for (const t of [...new Set(xValues)]) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${y0 + top}" y2="${y0 + top + ph}" stroke="#e8e8e8"/>`);
    out.push(`<text x="${x}" y="${y0 + top + ph + 14}" text-anchor="middle" font-size="10">${shortNumber(t)}</text>`);
  }
  out.push(`<rect x="${x0 + left}" y="${y0 + top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${x0 + left + pw / 2}" y="${y0 + h - 8}" text-anchor="middle" font-size="11">N (interfaces stored)</text>`);
  out.push(`<text transform="translate(${x0 + 16},${y0 + top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(panel.yLabel)}</text>`);
  for (const s of panel.series) {
    const color = colorOf(s);
    const pts = s.points.filter((p) => p.x > 0 && p.y > 0 && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      const points = pts.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${points}"/>`);
    }
    for (const p of pts) {
      out.push(
        `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(`${s.name}, N=${p.x}: ${shortNumber(p.y)}`)}</title></circle>`,
      );
    }
  }
  return out.join('\n');
}

export function lineChart(title: string, subtitle: string, panels: Panel[]): string {
  const pw = 480;
  const ph = 360;
  const all = panels.flatMap((p) => p.series);
  const names = [...new Set(all.map((s) => s.name))];
  const dashed = new Set(all.filter((s) => s.dashed).map((s) => s.name));
  const solid = names.filter((n) => !dashed.has(n));
  const colorOf = (s: { name: string }) => (dashed.has(s.name) ? '#000' : COLORS[solid.indexOf(s.name) % COLORS.length]);
  const xValues = all.flatMap((s) => s.points.map((p) => p.x));
  const perRow = 4;
  const width = pw * panels.length;
  const legendTop = 50 + ph + 16;
  const height = legendTop + Math.ceil(names.length / perRow) * 18 + 8;
  const body: string[] = [];
  body.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`);
  body.push(`<text x="${width / 2}" y="38" text-anchor="middle" font-size="11" fill="#555">${esc(subtitle)}</text>`);
  panels.forEach((p, i) => body.push(panelSvg(p, i * pw, 45, pw, ph, xValues, colorOf)));
  names.forEach((name, i) => {
    const x = 20 + (i % perRow) * ((width - 40) / perRow);
    const y = legendTop + Math.floor(i / perRow) * 18;
    const d = dashed.has(name);
    body.push(`<line x1="${x}" x2="${x + 24}" y1="${y - 4}" y2="${y - 4}" stroke="${colorOf({ name })}" stroke-width="2"${d ? ' stroke-dasharray="6 4"' : ''}/>`);
    body.push(`<text x="${x + 30}" y="${y}" font-size="11">${esc(name)}</text>`);
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${body.join('\n')}
</svg>
`;
}
