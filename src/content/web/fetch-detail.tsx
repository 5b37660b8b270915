/**
 * A get or pin transfer in detail: bytes so far (and those already here), rate and ETA, and a
 * row per peer with what it delivered.
 */
import { Bar } from '../../../web/src/components.tsx'
import { bytes, duration, rate, short } from '../../../web/src/format.ts'
import type { FetchTransfer } from '../api/schemas.ts'

export function FetchDetail({ t }: { t: FetchTransfer }) {
  const p = t.state === 'running' ? t.progress : (t.result ?? t.progress)
  const have = (p?.fetchedBytes ?? 0) + (p?.storedBytes ?? 0)
  const all = p?.peers ?? []
  // Peers that were asked but had nothing to give are counted, not listed.
  const peers = all.filter((x) => x.bytes > 0 || x.state !== 'active').sort((a, b) => b.bytes - a.bytes)
  const idle = all.length - peers.length
  const total = p?.totalBytes
  return (
    <>
      <Bar value={t.state === 'done' ? (total ?? have) : have} max={t.state === 'done' ? (total ?? have) : total} />
      <p class="muted small" data-testid="fetch-stats">
        {bytes(have)}
        {total === undefined ? '' : ` of ${bytes(total)}`}
        {t.state === 'running'
          ? ` · ${rate(p?.rateBps)} · ${p?.etaMs === undefined ? 'ETA –' : `ETA ${duration(p.etaMs)}`}`
          : ''}
        {t.state !== 'running' && t.endedAt !== undefined ? ` · took ${duration(t.endedAt - t.startedAt)}` : ''}
        {p !== undefined && p.storedBytes > 0 ? ` · ${bytes(p.storedBytes)} were here already` : ''}
      </p>
      {idle === 0 ? null : (
        <p class="muted small">
          {idle} more connected peer{idle === 1 ? '' : 's'} asked, nothing received from {idle === 1 ? 'it' : 'them'}{' '}
          yet
        </p>
      )}
      {peers.length === 0 ? null : (
        <table class="per-peer" data-testid="per-peer">
          <thead>
            <tr>
              <th>From peer</th>
              <th class="num">Bytes</th>
              <th class="num">Blocks</th>
              <th class="num">Share</th>
              <th class="num">Rate</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {peers.map((x) => (
              <tr key={x.peerId} data-peer={x.peerId}>
                <td>
                  <code title={x.peerId}>{short(x.peerId)}</code>
                </td>
                <td class="num">{bytes(x.bytes)}</td>
                <td class="num">{x.blocks}</td>
                <td class="num">
                  {p === undefined || p.fetchedBytes === 0 ? '–' : `${Math.round((100 * x.bytes) / p.fetchedBytes)}%`}
                </td>
                <td class="num">{rate(x.rateBps)}</td>
                <td>{x.state}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}
