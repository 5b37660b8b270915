/**
 * Ledger: this device's chain (head, length), what it gave to and received from each peer with a
 * chart of both over time (from the cumulative counts of the receipts), each peer's reputation,
 * and the fork proofs this node holds.
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { Card, Copy, ErrorNote } from '../../../web/src/components.tsx'
import { bytes, short } from '../../../web/src/format.ts'
import { useLoad } from '../../../web/src/hooks.ts'
import type { ServiceView } from '../../../web/src/service-view.ts'
import type { ForkView, LedgerSummary, PeerReceipts, ReceiptView } from '../api/schemas.ts'
import { ReputationCell, useReputations } from './reputation-cell.tsx'

const when = (ms: number) => new Date(ms).toLocaleString()

export function LedgerView() {
  const summary = useLoad(() => api.get<LedgerSummary>('/v1/ledger'), {
    everyMs: 10_000,
    refreshOn: ['ledger:receipt', 'ledger:fork'],
  })
  const reputations = useReputations()
  const [picked, setPicked] = useState<string | undefined>(undefined)
  const s = summary.data
  const peer = picked ?? s?.counterparties[0]?.peer
  return (
    <div class="grid" data-view="ledger">
      <ErrorNote error={summary.error} />
      <Card title="My chain">
        {s === undefined ? (
          <p class="muted">Loading…</p>
        ) : (
          <dl class="small" data-testid="chain">
            <dt>Entries</dt>
            <dd data-testid="chain-length">{s.length}</dd>
            <dt>Head</dt>
            <dd>
              {s.head === undefined ? (
                '–'
              ) : (
                <>
                  {s.head.seq} <code title={s.head.cid}>{short(s.head.cid)}</code> <Copy text={s.head.cid} />
                </>
              )}
            </dd>
            <dt>Unconfirmed proposals</dt>
            <dd>{s.unconfirmed}</dd>
            <dt>Receipts known around me</dt>
            <dd>{s.graphEdges}</dd>
          </dl>
        )}
        <p class="muted small">
          Every receipt is signed by both peers: what each gave the other, on each one's hash chain. Anyone can fetch a
          chain and check it; a peer that signs two versions of its history is caught and refused.
        </p>
      </Card>
      <Card title={`Given and received (${s?.counterparties.length ?? 0} peers)`} wide>
        {s === undefined || s.counterparties.length === 0 ? (
          <p class="muted">No receipts yet: serve or fetch something.</p>
        ) : (
          <table data-testid="counterparties">
            <thead>
              <tr>
                <th>Peer</th>
                <th class="num">Given</th>
                <th class="num">Received</th>
                <th class="num">Held</th>
                <th class="num">Receipts</th>
                <th>Reputation</th>
                <th>Last</th>
              </tr>
            </thead>
            <tbody>
              {s.counterparties.map((c) => (
                <tr
                  key={c.peer}
                  data-peer={c.peer}
                  class={c.peer === peer ? 'selected' : ''}
                  onClick={() => setPicked(c.peer)}
                >
                  <td>
                    <code title={c.peer}>{short(c.peer)}</code>
                  </td>
                  <td class="num">{bytes(c.given)}</td>
                  <td class="num">{bytes(c.received)}</td>
                  <td class="num">{c.held === 0 ? '–' : bytes(c.held)}</td>
                  <td class="num">
                    {c.receipts}
                    {c.unconfirmed > 0 ? <span class="muted small"> +{c.unconfirmed} unconfirmed</span> : null}
                  </td>
                  <td>
                    <ReputationCell peer={c.peer} reputation={reputations.get(c.peer)} />
                  </td>
                  <td class="small">{when(c.lastAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {peer === undefined ? null : <History peer={peer} />}
      <Forks forks={s?.forks ?? []} />
    </div>
  )
}

function History({ peer }: { peer: string }) {
  const receipts = useLoad(() => api.get<PeerReceipts>(`/v1/ledger/peers/${encodeURIComponent(peer)}`), {
    refreshOn: ['ledger:receipt'],
  })
  const list = (receipts.data?.receipts ?? []).filter((r) => r.confirmed).reverse()
  return (
    <Card title={`Over time with ${short(peer)}`} wide>
      <ErrorNote error={receipts.error} />
      {list.length === 0 ? <p class="muted">No co-signed receipt with this peer yet.</p> : <Chart receipts={list} />}
    </Card>
  )
}

/** Cumulative bytes given and received over time, one point per receipt (oldest first). */
function Chart({ receipts }: { receipts: ReceiptView[] }) {
  const W = 720
  const H = 220
  const left = 70
  const right = 90
  const top = 16
  const bottom = 30
  const t0 = receipts[0]?.at ?? 0
  const t1 = Math.max(t0 + 1, receipts.at(-1)?.at ?? 0)
  const most = Math.max(1, ...receipts.map((r) => Math.max(r.given, r.received)))
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (W - left - right)
  const y = (v: number) => H - bottom - (v / most) * (H - top - bottom)
  const line = (pick: (r: ReceiptView) => number) => receipts.map((r) => `${x(r.at)},${y(pick(r))}`).join(' ')
  const text = { 'font-size': 12, fill: '#555' }
  const time = (ms: number) => new Date(ms).toLocaleTimeString()
  return (
    <svg
      viewBox={`0 0 ${W} ${H}`}
      style={{ width: '100%', maxWidth: `${W}px`, display: 'block' }}
      role="img"
      aria-label="Bytes given and received over time"
      data-testid="ledger-chart"
    >
      <line x1={left} y1={y(0)} x2={W - right} y2={y(0)} stroke="#999" />
      <line x1={left} y1={top} x2={left} y2={y(0)} stroke="#999" />
      <text x={left - 6} y={top + 4} text-anchor="end" {...text}>
        {bytes(most)}
      </text>
      <text x={left - 6} y={y(0) + 4} text-anchor="end" {...text}>
        0
      </text>
      <polyline points={line((r) => r.given)} fill="none" stroke="#2ca02c" stroke-width={2} />
      <polyline points={line((r) => r.received)} fill="none" stroke="#1f77b4" stroke-width={2} />
      <text x={W - right + 8} y={top + 12} {...text} fill="#2ca02c">
        given
      </text>
      <text x={W - right + 8} y={top + 30} {...text} fill="#1f77b4">
        received
      </text>
      <text x={left} y={H - 8} {...text}>
        {time(t0)}
      </text>
      <text x={W - right} y={H - 8} text-anchor="end" {...text}>
        {time(t1)}
      </text>
    </svg>
  )
}

function Forks({ forks }: { forks: ForkView[] }) {
  return (
    <Card title={`Fork proofs (${forks.length})`}>
      {forks.length === 0 ? (
        <p class="muted">None: no peer was caught keeping two versions of its history.</p>
      ) : (
        <table data-testid="forks">
          <thead>
            <tr>
              <th>Device</th>
              <th>Position</th>
              <th>Halves</th>
              <th>Learned</th>
            </tr>
          </thead>
          <tbody>
            {forks.map((f) => (
              <tr key={`${f.offender}-${f.seq}`}>
                <td>
                  <code title={f.offender}>{short(f.offender)}</code>
                  <div class="small">
                    <span class="badge failed">refused</span>
                  </div>
                </td>
                <td>{f.seq}</td>
                <td class="small">
                  {f.halves.map((h) => (
                    <div key={h}>
                      <code title={h}>{short(h)}</code>
                    </div>
                  ))}
                </td>
                <td class="small">{when(f.at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  )
}

/** The dashboard's view of the ledger. */
export const ledgerView: ServiceView = { id: 'ledger', title: 'Ledger', View: LedgerView }
