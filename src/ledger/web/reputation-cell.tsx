/**
 * The reputation of one peer in the Peers view: its standing and score, and on demand the paths
 * its contribution flows along (GET /v1/reputation/{peer}?explain=true).
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { ErrorNote, useAction } from '../../../web/src/components.tsx'
import { bytes, short } from '../../../web/src/format.ts'
import { useLoad } from '../../../web/src/hooks.ts'
import type { PathView, ReputationList, ReputationView } from '../api/schemas.ts'

const BADGE: Record<ReputationView['standing'], string> = {
  contributor: 'done',
  newcomer: '',
  'free-rider': 'cancelled',
  'non-signer': 'cancelled',
  refused: 'failed',
}

/** Every known peer's reputation, reloaded when receipts or forks arrive. */
export function useReputations(): Map<string, ReputationView> {
  const list = useLoad(() => api.get<ReputationList>('/v1/reputation'), {
    everyMs: 10_000,
    refreshOn: ['ledger:receipt', 'ledger:fork'],
  })
  return new Map((list.data?.peers ?? []).map((r) => [r.target, r]))
}

export function StandingBadge({ standing }: { standing: ReputationView['standing'] }) {
  return (
    <span class={`badge ${BADGE[standing]}`} data-standing={standing}>
      {standing}
    </span>
  )
}

function signed(n: number): string {
  return `${n > 0 ? '+' : n < 0 ? '−' : ''}${bytes(Math.abs(n))}`
}

function Paths({ title, paths }: { title: string; paths: PathView[] }) {
  return (
    <div>
      <div class="muted small">{title}</div>
      {paths.length === 0 ? (
        <div class="small">nothing</div>
      ) : (
        <ul class="small">
          {paths.map((p) => (
            <li key={`${p.device}-${p.via.join('>')}`}>
              {bytes(p.bytes)} {p.via.length === 0 ? 'direct' : `via ${p.via.map((v) => short(v)).join(' > ')}`}
              {p.shared ? <span class="muted"> (shared; could carry {bytes(p.capacity)})</span> : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

/** A peer's standing (a newcomer when the node has no receipt that reaches it) and, on demand, why. */
export function ReputationCell({ peer, reputation }: { peer: string; reputation: ReputationView | undefined }) {
  const [explained, setExplained] = useState<ReputationView | undefined>(undefined)
  const explain = useAction(async () => {
    setExplained(await api.get<ReputationView>(`/v1/reputation/${encodeURIComponent(peer)}?explain=true`))
  })
  const r = explained ?? reputation
  return (
    <div data-testid="reputation">
      <StandingBadge standing={r?.standing ?? 'newcomer'} />{' '}
      {r === undefined ? null : <span class="small">{signed(r.score)}</span>}{' '}
      {explained === undefined ? (
        <button type="button" class="small" disabled={explain.busy} onClick={() => void explain.run()}>
          Why
        </button>
      ) : (
        <details open data-testid="reputation-explanation">
          <summary class="small">
            gave {bytes(explained.gave)}, took {bytes(explained.took)}
          </summary>
          <Paths title="Gave this node" paths={explained.explanation?.gave ?? []} />
          <Paths title="Took from this node" paths={explained.explanation?.took ?? []} />
        </details>
      )}
      <ErrorNote error={explain.error} />
    </div>
  )
}
