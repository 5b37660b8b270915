/**
 * One pairing followed from the page: started by a call that answers with its ID, then moved on
 * by `pairing:update` events. An update can reach the page before the call that started the
 * pairing answers, so updates are held by pairing ID until the page knows which one is its own,
 * and of two views of the same pairing the one further along wins.
 */
import { useRef, useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { useAction } from '../../../web/src/components.tsx'
import { useEvents } from '../../../web/src/hooks.ts'
import type { PairingView } from '../api/schemas.ts'

const PROGRESS: Record<PairingView['state'], number> = {
  waiting: 0,
  compare: 1,
  confirmed: 2,
  done: 3,
  aborted: 3,
  expired: 3,
}

/** Updates of pairings this page has not claimed yet, kept at most (other pages and the CLI pair too). */
const UNCLAIMED_MAX = 16

export function ended(p: PairingView): boolean {
  return PROGRESS[p.state] === 3
}

function further(a: PairingView | undefined, b: PairingView): PairingView {
  if (a === undefined || a.id !== b.id) return b
  return PROGRESS[b.state] >= PROGRESS[a.state] ? b : a
}

export interface FollowedPairing {
  pairing: PairingView | undefined
  /** Run the call that starts a pairing and follow the pairing it answers with. */
  start: ReturnType<typeof useAction<[() => Promise<PairingView>]>>
  /** "They match" (`yes`) or "They differ" (a refusal: both sides abort). */
  answer: ReturnType<typeof useAction<[boolean]>>
  /** Forget the pairing shown (after it ended), to start another. */
  reset: () => void
}

export function usePairing(): FollowedPairing {
  const [pairing, setPairing] = useState<PairingView | undefined>(undefined)
  const unclaimed = useRef(new Map<string, PairingView>())
  const current = useRef<string | undefined>(undefined)

  useEvents((e) => {
    if (e.type === 'reconnected' && current.current !== undefined) {
      // Updates sent while the stream was down are lost: read the pairing as it is now.
      const id = current.current
      api.get<PairingView>(`/v1/identity/pairings/${id}`).then(
        (p) => setPairing((cur) => further(cur, p)),
        (err: unknown) =>
          setPairing((cur) =>
            cur === undefined || ended(cur)
              ? cur
              : { ...cur, state: 'aborted', error: `lost track of it: ${(err as Error).message}` },
          ),
      )
      return
    }
    if (e.type !== 'pairing:update') return
    const p = e.data as PairingView
    if (p.id === current.current) {
      setPairing((cur) => further(cur, p))
      return
    }
    const held = unclaimed.current
    held.set(p.id, further(held.get(p.id), p))
    for (const id of held.keys()) {
      if (held.size <= UNCLAIMED_MAX) break
      held.delete(id)
    }
  })

  const start = useAction(async (call: () => Promise<PairingView>) => {
    const p = await call()
    current.current = p.id
    setPairing(further(unclaimed.current.get(p.id), p))
    unclaimed.current.clear()
  })

  const answer = useAction(async (match: boolean) => {
    const id = current.current
    if (id === undefined) return
    const p = match
      ? await api.post<PairingView>(`/v1/identity/pairings/${id}/confirm`, { shortString: 'yes' })
      : await api.delete<PairingView>(`/v1/identity/pairings/${id}`)
    setPairing((cur) => further(cur, p))
  })

  const reset = () => {
    current.current = undefined
    setPairing(undefined)
    start.clear()
    answer.clear()
  }

  return { pairing, start, answer, reset }
}
