/**
 * Misbehaviour points per peer, decaying with a half-life, fed to gossipsub as its
 * application-specific score (negative), so a peer that keeps sending invalid data loses its
 * place in every mesh, then stops being gossiped to, then is ignored (graylisted).
 */
export const PENALTY_HALF_LIFE_MS = 60_000

export class PenaltyBook {
  readonly #entries = new Map<string, { points: number; at: number }>()
  readonly #halfLifeMs: number

  constructor(halfLifeMs = PENALTY_HALF_LIFE_MS) {
    this.#halfLifeMs = halfLifeMs
  }

  add(peerId: string, points: number, now = Date.now()): number {
    const total = this.get(peerId, now) + points
    this.#entries.set(peerId, { points: total, at: now })
    return total
  }

  get(peerId: string, now = Date.now()): number {
    const entry = this.#entries.get(peerId)
    if (entry === undefined) return 0
    const points = entry.points * 0.5 ** ((now - entry.at) / this.#halfLifeMs)
    if (points < 0.01) {
      this.#entries.delete(peerId)
      return 0
    }
    return points
  }
}
