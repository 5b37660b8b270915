/**
 * What a mailbox holds, counted in memory: per identity its bytes and messages, each sender's
 * part of them, the envelope hashes (one copy of each envelope), and per device the messages in
 * deposit order. Rebuilt from the store's metadata at start; every change to the store goes
 * through it, so the quotas are checked without reading the datastore.
 */
import type { HeldMessage } from './mail-store.ts'

export interface Usage {
  bytes: number
  messages: number
}

interface IdentityHoldings extends Usage {
  senders: Map<string, Usage>
  hashes: Set<string>
  /** Per device, its messages in deposit order. */
  devices: Map<string, HeldMessage[]>
}

export class MailIndex {
  readonly #identities = new Map<string, IdentityHoldings>()
  readonly #total: Usage = { bytes: 0, messages: 0 }
  /** Told which device's holdings changed (the ledger counts what this mailbox holds for each). */
  onChange: ((identity: string, device: string) => void) | undefined

  total(): Usage {
    return { ...this.#total }
  }

  usage(identity: string): Usage {
    const h = this.#identities.get(identity)
    return { bytes: h?.bytes ?? 0, messages: h?.messages ?? 0 }
  }

  senderUsage(identity: string, sender: string): Usage {
    const u = this.#identities.get(identity)?.senders.get(sender)
    return { bytes: u?.bytes ?? 0, messages: u?.messages ?? 0 }
  }

  holds(identity: string, hash: string): boolean {
    return this.#identities.get(identity)?.hashes.has(hash) === true
  }

  identities(): string[] {
    return [...this.#identities.keys()]
  }

  /** Devices of `identity` with mail here, each with its messages in deposit order. */
  devices(identity: string): Map<string, readonly HeldMessage[]> {
    return new Map(this.#identities.get(identity)?.devices ?? [])
  }

  /** Messages for one device, in deposit order. */
  messages(identity: string, device: string): readonly HeldMessage[] {
    return [...(this.#identities.get(identity)?.devices.get(device) ?? [])]
  }

  all(identity: string): HeldMessage[] {
    return [...(this.#identities.get(identity)?.devices.values() ?? [])].flat()
  }

  /** Senders with mail held for `identity`. */
  senders(identity: string): number {
    return this.#identities.get(identity)?.senders.size ?? 0
  }

  add(m: HeldMessage): void {
    let h = this.#identities.get(m.identity)
    if (h === undefined) {
      h = { bytes: 0, messages: 0, senders: new Map(), hashes: new Set(), devices: new Map() }
      this.#identities.set(m.identity, h)
    }
    h.bytes += m.size
    h.messages++
    this.#total.bytes += m.size
    this.#total.messages++
    const s = h.senders.get(m.sender) ?? { bytes: 0, messages: 0 }
    s.bytes += m.size
    s.messages++
    h.senders.set(m.sender, s)
    h.hashes.add(m.hash)
    const list = h.devices.get(m.device) ?? []
    // Deposits arrive in order; a message put back after a failed write may not.
    if (list.length > 0 && (list[list.length - 1] as HeldMessage).order > m.order) {
      list.push(m)
      list.sort((a, b) => (a.order < b.order ? -1 : 1))
    } else {
      list.push(m)
    }
    h.devices.set(m.device, list)
    this.onChange?.(m.identity, m.device)
  }

  /** Forget one message; false when it was not held (removed already). */
  remove(m: HeldMessage): boolean {
    const h = this.#identities.get(m.identity)
    const list = h?.devices.get(m.device)
    const at = list?.findIndex((x) => x.order === m.order) ?? -1
    if (h === undefined || list === undefined || at < 0) return false
    list.splice(at, 1)
    if (list.length === 0) h.devices.delete(m.device)
    h.bytes -= m.size
    h.messages--
    this.#total.bytes -= m.size
    this.#total.messages--
    const s = h.senders.get(m.sender)
    if (s !== undefined) {
      s.bytes -= m.size
      s.messages--
      if (s.messages <= 0) h.senders.delete(m.sender)
    }
    h.hashes.delete(m.hash)
    if (h.messages === 0) this.#identities.delete(m.identity)
    this.onChange?.(m.identity, m.device)
    return true
  }
}
