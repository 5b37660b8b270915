/**
 * Progress on the terminal (stderr, only when it is a TTY and output is not --json): one bar
 * for adding, and for getting one bar plus a line per peer with what it delivered and its rate.
 */
import cliProgress from 'cli-progress'
import { shortPeer } from '../../cli/message-format.ts'
import { formatDuration } from '../../cli/output.ts'
import { formatBytes } from '../../core/units.ts'
import type { AddProgressView, FetchProgressView } from '../api/schemas.ts'

type GetProgressView = FetchProgressView

export interface ProgressView {
  update(progress: unknown): void
  stop(): void
}

const none: ProgressView = { update() {}, stop() {} }

function bar(ratio: number, width = 28): string {
  const filled = Math.round(Math.min(1, Math.max(0, ratio)) * width)
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`
}

function rate(bps: number): string {
  return `${formatBytes(bps)}/s`
}

/** A live view for `kind`, or a silent one when stderr is not a terminal or JSON is asked for. */
export function progressView(kind: 'add' | 'get', enabled: boolean): ProgressView {
  if (!enabled || process.stderr.isTTY !== true) return none
  const multi = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 8,
      format: (_options, _params, payload: { line: string }) => payload.line,
    },
    cliProgress.Presets.shades_classic,
  )
  const main = multi.create(1, 0, { line: kind === 'add' ? 'Reading…' : 'Looking for peers…' })
  const peerBars = new Map<string, cliProgress.SingleBar>()
  const started = Date.now()
  let last: { bytes: number; at: number } = { bytes: 0, at: started }
  let addRate = 0

  const addLine = (p: AddProgressView): string => {
    const now = Date.now()
    if (now - last.at >= 500) {
      addRate = ((p.bytes - last.bytes) / (now - last.at)) * 1000
      last = { bytes: p.bytes, at: now }
    }
    const total = p.total ?? 0
    const eta = addRate > 0 && total > 0 ? ` ETA ${formatDuration(((total - p.bytes) / addRate) * 1000)}` : ''
    const pct = total > 0 ? `${Math.floor((p.bytes / total) * 100)}%` : ''
    return `Adding ${bar(total > 0 ? p.bytes / total : 0)} ${pct} ${formatBytes(p.bytes)}${total > 0 ? ` / ${formatBytes(total)}` : ''} ${rate(addRate)}${eta}`
  }

  const getLine = (p: GetProgressView): string => {
    const done = p.fetchedBytes + p.storedBytes
    const total = p.totalBytes ?? 0
    const pct = total > 0 ? `${Math.floor((done / total) * 100)}%` : ''
    const eta = p.etaMs === undefined ? '' : ` ETA ${formatDuration(p.etaMs)}`
    const resumed = p.storedBytes > 0 ? ` (${formatBytes(p.storedBytes)} already here)` : ''
    const active = p.peers.filter((x) => x.state === 'active').length
    return `Getting ${bar(total > 0 ? done / total : 0)} ${pct} ${formatBytes(done)}${total > 0 ? ` / ${formatBytes(total)}` : ''} ${rate(p.rateBps)}${eta} from ${active} peer${active === 1 ? '' : 's'}${resumed}`
  }

  return {
    update(progress: unknown) {
      if (kind === 'add') {
        main.update(0, { line: addLine(progress as AddProgressView) })
        return
      }
      const p = progress as GetProgressView
      main.update(0, { line: getLine(p) })
      for (const peer of p.peers) {
        const line = `  ${shortPeer(peer.peerId).padEnd(14)} ${formatBytes(peer.bytes).padStart(10)}  ${peer.state === 'active' ? rate(peer.rateBps) : peer.state}`
        const existing = peerBars.get(peer.peerId)
        if (existing === undefined) peerBars.set(peer.peerId, multi.create(1, 0, { line }))
        else existing.update(0, { line })
      }
    },
    stop() {
      multi.stop()
    },
  }
}
