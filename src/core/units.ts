/** Byte sizes and rates as people write and read them (binary multiples: 1k = 1024). */

/** `10M`, `512k`, `1.5G`, `64KiB` or plain bytes. NaN when malformed. */
export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([kKmMgGtT])(?:i?[bB])?|[bB])?$/.exec(value.trim())
  if (m === null) return Number.NaN
  const unit = (m[2] ?? '').toLowerCase()
  const power = ' kmgt'.indexOf(unit === '' ? ' ' : unit)
  return Math.round(Number(m[1]) * 1024 ** power)
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`
}
