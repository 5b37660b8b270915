/** A small line chart as SVG: enough for bench plots, no dependency. */
export interface Series {
  name: string
  points: Array<[number, number]>
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b']

export interface ChartOptions {
  /** Label this many evenly spaced x values instead of every distinct one (dense series such as CDFs). */
  xTicks?: number
}

export function lineChart(
  title: string,
  xLabel: string,
  yLabel: string,
  series: Series[],
  options: ChartOptions = {},
): string {
  const W = 720
  const H = 420
  const m = { left: 70, right: 200, top: 40, bottom: 55 }
  const xs = series.flatMap((s) => s.points.map((p) => p[0]))
  const ys = series.flatMap((s) => s.points.map((p) => p[1]))
  const xMax = Math.max(...xs, 1)
  const yMax = niceCeil(Math.max(...ys, 1))
  const x = (v: number) => m.left + (v / xMax) * (W - m.left - m.right)
  const y = (v: number) => H - m.bottom - (v / yMax) * (H - m.top - m.bottom)
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${m.left}" y1="${H - m.bottom}" x2="${W - m.right}" y2="${H - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${H - m.bottom}" stroke="black"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 15}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="18" y="${(m.top + H - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 18 ${(m.top + H - m.bottom) / 2})">${esc(yLabel)}</text>`,
  ]
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5
    parts.push(
      `<line x1="${m.left}" y1="${y(v)}" x2="${W - m.right}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`,
    )
  }
  const xValues =
    options.xTicks === undefined
      ? [...new Set(xs)].sort((a, b) => a - b)
      : Array.from({ length: options.xTicks + 1 }, (_, i) => Math.round((xMax * i) / (options.xTicks as number)))
  for (const v of xValues) {
    parts.push(`<text x="${x(v)}" y="${H - m.bottom + 18}" text-anchor="middle">${fmt(v)}</text>`)
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]
    const pts = s.points.map(([a, b]) => `${x(a)},${y(b)}`).join(' ')
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>`)
    for (const [a, b] of s.points) parts.push(`<circle cx="${x(a)}" cy="${y(b)}" r="3.5" fill="${color}"/>`)
    parts.push(
      `<rect x="${W - m.right + 15}" y="${m.top + i * 20}" width="12" height="12" fill="${color}"/>`,
      `<text x="${W - m.right + 32}" y="${m.top + i * 20 + 11}">${esc(s.name)}</text>`,
    )
  })
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v))
  for (const f of [1, 2, 2.5, 5, 10]) if (v <= f * p) return f * p
  return 10 * p
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1))
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
