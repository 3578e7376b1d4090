// A small SVG writer for the results chart: grouped bars (linear or log scale) and lines,
// stacked as panels in one file. Plain strings, no dependency: the chart has four panels
// and needs nothing a library would add.

export interface Series {
  name: string;
  /** One value per group (bars) or per x (lines); null or NaN where there is none. */
  values: (number | null)[];
}

export interface BarPanel {
  kind: 'bars';
  title: string;
  unit: string;
  groups: string[];
  series: Series[];
  log?: boolean;
}

export interface LinePanel {
  kind: 'lines';
  title: string;
  unit: string;
  x: number[];
  xLabel: string;
  series: Series[];
  log?: boolean;
}

export type Panel = BarPanel | LinePanel;

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const fmt = (v: number): string => {
  if (!Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return `${Math.round(v / 100) / 10}k`.replace('.0k', 'k');
  if (a >= 10) return String(Math.round(v));
  if (a >= 1) return String(Math.round(v * 10) / 10);
  return String(Number(v.toPrecision(2)));
};

const usable = (v: number | null): v is number => v !== null && Number.isFinite(v);

/** Scale from value to 0..1 (linear from 0, or log over the data's decades). */
function scale(values: number[], log: boolean): { f: (v: number) => number; ticks: number[] } {
  const pos = values.filter((v) => v > 0);
  if (log && pos.length > 0) {
    const lo = Math.floor(Math.log10(Math.min(...pos)));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...pos))));
    const ticks: number[] = [];
    for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
    return { f: (v) => (v <= 0 ? 0 : (Math.log10(v) - lo) / (hi - lo)), ticks };
  }
  const max = Math.max(0, ...values);
  const step = niceStep(max / 4 || 1);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= top + step / 2; t += step) ticks.push(t);
  return { f: (v) => Math.max(0, v) / top, ticks };
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

const WIDTH = 900;
const PLOT_LEFT = 70;
const PLOT_RIGHT = 20;
const PLOT_HEIGHT = 220;
const LEGEND_WIDTH = 0;

function axis(out: string[], top: number, ticks: number[], f: (v: number) => number, unit: string): void {
  const right = WIDTH - PLOT_RIGHT - LEGEND_WIDTH;
  for (const t of ticks) {
    const y = top + PLOT_HEIGHT - f(t) * PLOT_HEIGHT;
    out.push(`<line x1="${PLOT_LEFT}" y1="${y.toFixed(1)}" x2="${right}" y2="${y.toFixed(1)}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${PLOT_LEFT - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${escapeXml(fmt(t))}</text>`);
  }
  out.push(`<line x1="${PLOT_LEFT}" y1="${top}" x2="${PLOT_LEFT}" y2="${top + PLOT_HEIGHT}" stroke="#333"/>`);
  out.push(`<line x1="${PLOT_LEFT}" y1="${top + PLOT_HEIGHT}" x2="${right}" y2="${top + PLOT_HEIGHT}" stroke="#333"/>`);
  out.push(
    `<text x="14" y="${top + PLOT_HEIGHT / 2}" font-size="11" transform="rotate(-90 14 ${top + PLOT_HEIGHT / 2})" text-anchor="middle">${escapeXml(unit)}</text>`,
  );
}

function legend(out: string[], top: number, names: string[], colors: Map<string, string>): void {
  let x = PLOT_LEFT;
  for (const n of names) {
    out.push(`<rect x="${x}" y="${top}" width="10" height="10" fill="${colors.get(n)}"/>`);
    out.push(`<text x="${x + 14}" y="${top + 9}" font-size="11">${escapeXml(n)}</text>`);
    x += 24 + n.length * 6.5;
  }
}

function bars(out: string[], top: number, p: BarPanel, colors: Map<string, string>): void {
  const all = p.series.flatMap((s) => s.values.filter(usable));
  const { f, ticks } = scale(all, !!p.log);
  axis(out, top, ticks, f, p.unit);
  const right = WIDTH - PLOT_RIGHT - LEGEND_WIDTH;
  const groupW = (right - PLOT_LEFT) / Math.max(1, p.groups.length);
  const barW = Math.max(2, (groupW * 0.8) / Math.max(1, p.series.length));
  p.groups.forEach((g, gi) => {
    const x0 = PLOT_LEFT + gi * groupW + groupW * 0.1;
    p.series.forEach((s, si) => {
      const v = s.values[gi];
      if (!usable(v ?? null)) return;
      const h = f(v!) * PLOT_HEIGHT;
      const x = x0 + si * barW;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${(top + PLOT_HEIGHT - h).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${colors.get(s.name)}"><title>${escapeXml(`${s.name} ${g}: ${fmt(v!)} ${p.unit}`)}</title></rect>`,
      );
      if (barW >= 14) {
        out.push(
          `<text x="${(x + barW / 2).toFixed(1)}" y="${(top + PLOT_HEIGHT - h - 3).toFixed(1)}" font-size="9" text-anchor="middle">${escapeXml(fmt(v!))}</text>`,
        );
      }
    });
    out.push(
      `<text x="${(PLOT_LEFT + gi * groupW + groupW / 2).toFixed(1)}" y="${top + PLOT_HEIGHT + 14}" font-size="11" text-anchor="middle">${escapeXml(g)}</text>`,
    );
  });
}

function lines(out: string[], top: number, p: LinePanel, colors: Map<string, string>): void {
  const all = p.series.flatMap((s) => s.values.filter(usable));
  const { f, ticks } = scale(all, !!p.log);
  axis(out, top, ticks, f, p.unit);
  const right = WIDTH - PLOT_RIGHT - LEGEND_WIDTH - 20;
  // x on a log scale when it spans decades (tenant counts), else evenly spaced.
  const lx = p.x.map((v) => Math.log10(Math.max(v, 1)));
  const lo = Math.min(...lx);
  const hi = Math.max(...lx);
  const xs = p.x.map((_, i) => (hi > lo ? PLOT_LEFT + 20 + ((lx[i]! - lo) / (hi - lo)) * (right - PLOT_LEFT - 20) : PLOT_LEFT + (right - PLOT_LEFT) / 2));
  p.x.forEach((v, i) => {
    out.push(`<text x="${xs[i]!.toFixed(1)}" y="${top + PLOT_HEIGHT + 14}" font-size="11" text-anchor="middle">${escapeXml(String(v))}</text>`);
  });
  out.push(`<text x="${(PLOT_LEFT + right) / 2}" y="${top + PLOT_HEIGHT + 28}" font-size="11" text-anchor="middle">${escapeXml(p.xLabel)}</text>`);
  for (const s of p.series) {
    const pts = s.values.map((v, i) => (usable(v) ? [xs[i]!, top + PLOT_HEIGHT - f(v) * PLOT_HEIGHT] : null)).filter((x): x is number[] => x !== null);
    if (pts.length === 0) continue;
    const c = colors.get(s.name);
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map(([x, y]) => `${x!.toFixed(1)},${y!.toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) out.push(`<circle cx="${x!.toFixed(1)}" cy="${y!.toFixed(1)}" r="3" fill="${c}"/>`);
  }
}

/** One SVG document: a title, a shared legend, then the panels one under another. */
export function renderChart(title: string, subtitle: string, panels: Panel[]): string {
  const names: string[] = [];
  for (const p of panels) for (const s of p.series) if (!names.includes(s.name)) names.push(s.name);
  const colors = new Map(names.map((n, i) => [n, PALETTE[i % PALETTE.length]!]));
  const panelH = PLOT_HEIGHT + 70;
  const height = 70 + panels.length * panelH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${PLOT_LEFT}" y="22" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${PLOT_LEFT}" y="40" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`,
  ];
  legend(out, 50, names, colors);
  panels.forEach((p, i) => {
    const top = 70 + i * panelH + 24;
    out.push(`<text x="${PLOT_LEFT}" y="${top - 8}" font-size="13" font-weight="bold">${escapeXml(p.title)}${p.log ? ' (log scale)' : ''}</text>`);
    if (p.kind === 'bars') bars(out, top, p, colors);
    else lines(out, top, p, colors);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
