/** Terminal output: human text by default, one JSON document with --json. Only cli/ prints. */
import type { Command } from 'commander'
import { resolveHome } from '../core/home.ts'

export interface Globals {
  home: string
  json: boolean
}

/** The global options of the command being run (`--home`, `--json`). */
export function globals(cmd: Command): Globals {
  const opts = cmd.optsWithGlobals<{ home?: string; json?: boolean }>()
  return { home: resolveHome(opts.home), json: opts.json === true }
}

/** Print a result: JSON for scripts, or the human rendering. */
export function emit(g: Globals, data: unknown, human: () => string): void {
  if (process.stdout.writable) process.stdout.write(g.json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`)
}

export function warn(line: string): void {
  if (process.stderr.writable) process.stderr.write(`${line}\n`)
}

/**
 * For a command that runs for long (the daemon): when whoever reads its stdout or stderr goes
 * away (a closed pipe, EPIPE), the write error must not become an uncaught exception that stops
 * it. The stream is then left closed and nothing more is written to it; `onClosed` is told.
 */
export function outliveReaders(onClosed: (stream: 'stdout' | 'stderr', err: Error) => void = () => {}): void {
  for (const name of ['stdout', 'stderr'] as const) {
    process[name].on('error', (err: Error) => onClosed(name, err))
  }
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000)
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const parts = [d > 0 ? `${d}d` : '', h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', `${s % 60}s`]
  return parts.filter((p) => p !== '').join(' ')
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${Math.round(ms)} ms`
}

/** A plain text table with left-aligned columns. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...rows.map(line)].join('\n')
}

/** Help text block of examples, appended to a command's --help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`
}
