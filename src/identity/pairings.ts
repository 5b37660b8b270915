/**
 * Pairings in progress on this node, as the API shows them: each has an ID, a state that moves
 * waiting -> compare -> confirmed -> done (or aborted / expired), and the confirmation a person
 * (or a script) gives through the API: the string the other screen shows, or `yes`.
 */
import { randomBytes } from 'node:crypto'
import { NotFoundError } from '../core/errors.ts'
import { type ConfirmShortString, sameShortString } from './pairing/index.ts'
import type { PairingView } from './views.ts'

const KEEP_ENDED = 32

interface Entry {
  view: PairingView
  /** Settles the pending confirmation: true when the typed string matches. */
  answer?: (typed: string) => void
  controller: AbortController
}

export class Pairings {
  readonly #entries = new Map<string, Entry>()
  readonly #emit: (view: PairingView) => void

  constructor(emit: (view: PairingView) => void) {
    this.#emit = emit
  }

  /** A new pairing in `waiting`; `signal` ends the pairing when the person cancels. */
  open(role: PairingView['role'], fields: Partial<PairingView> = {}): { view: PairingView; signal: AbortSignal } {
    const id = randomBytes(8).toString('hex')
    const controller = new AbortController()
    const view: PairingView = { id, role, state: 'waiting', ...fields }
    this.#entries.set(id, { view, controller })
    this.#prune()
    this.#emit(view)
    return { view: { ...view }, signal: controller.signal }
  }

  /** The confirmation callback the pairing protocol calls once the short string is known. */
  confirmer(id: string): ConfirmShortString {
    return (shortString, { signal, peerId }) => {
      const entry = this.#get(id)
      return new Promise<boolean>((resolve) => {
        const onAbort = () => resolve(false)
        signal.addEventListener('abort', onAbort, { once: true })
        entry.answer = (typed) => {
          signal.removeEventListener('abort', onAbort)
          const yes = typed.trim().toLowerCase() === 'yes' || sameShortString(typed, shortString)
          if (yes) this.update(id, { state: 'confirmed' })
          resolve(yes)
        }
        this.update(id, { state: 'compare', shortString, peer: peerId })
      })
    }
  }

  /** What the person typed; anything but the same string (or `yes`) refuses, which aborts both sides. */
  confirm(id: string, typed: string): PairingView {
    const entry = this.#get(id)
    if (entry.answer === undefined) {
      throw new NotFoundError(`pairing ${id} has nothing to confirm now (state ${entry.view.state})`)
    }
    const answer = entry.answer
    entry.answer = undefined
    answer(typed)
    return { ...entry.view }
  }

  cancel(id: string): PairingView {
    const entry = this.#get(id)
    entry.answer?.('')
    entry.controller.abort(new Error('cancelled'))
    return { ...entry.view }
  }

  update(id: string, fields: Partial<PairingView>): PairingView {
    const entry = this.#get(id)
    entry.view = { ...entry.view, ...fields }
    this.#emit({ ...entry.view })
    return { ...entry.view }
  }

  /** End a pairing with its outcome. */
  end(id: string, outcome: { identity: string } | { error: Error }): PairingView {
    if ('identity' in outcome) return this.update(id, { state: 'done', identity: outcome.identity })
    const expired = outcome.error.name === 'PairingCodeExpiredError'
    return this.update(id, { state: expired ? 'expired' : 'aborted', error: outcome.error.message })
  }

  get(id: string): PairingView {
    return { ...this.#get(id).view }
  }

  /** Stop every pairing in progress (the node is stopping). */
  close(): void {
    for (const entry of this.#entries.values()) entry.controller.abort(new Error('the node is stopping'))
  }

  #get(id: string): Entry {
    const entry = this.#entries.get(id)
    if (entry === undefined) throw new NotFoundError(`no pairing ${id}`)
    return entry
  }

  #prune(): void {
    const ended = [...this.#entries.values()].filter((e) => ['done', 'aborted', 'expired'].includes(e.view.state))
    for (const e of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) this.#entries.delete(e.view.id)
  }
}
