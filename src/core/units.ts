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

/**
 * A point in time as people write it: a duration from `now` (`30d`, `12h`, `90m`, `45s`, `2w`)
 * or a date/time (`2027-06-01`, `2027-06-01T12:00:00Z`). NaN when malformed.
 */
export function parseWhen(value: string, now = Date.now()): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(value.trim())
  if (m !== null) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86_400e3, w: 604_800e3 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w']
    return now + Math.round(Number(m[1]) * unit)
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value.trim())) return Number.NaN
  return Date.parse(value.trim())
}
