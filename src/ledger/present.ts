/** The ledger's records as the API shows them (views.ts). */
import { SERVICE_KINDS } from '../core/contribution.ts'
import type { ChainEntry, CounterpartySummary } from './chain-store.ts'
import type { ForkProof } from './fork-watch.ts'
import type { CounterpartyView, ForkView, ReceiptView } from './views.ts'

export function receiptView(entry: ChainEntry): ReceiptView {
  const h = entry.half.payload
  const o = entry.other
  return {
    seq: entry.seq,
    cid: entry.half.cid.toString(),
    peer: h.peer,
    ...(h.pid === undefined ? {} : { identity: h.pid }),
    kind: h.kind,
    role: h.link === undefined ? 'proposed' : 'agreed',
    given: h.out,
    received: h.in,
    ...(h.held === undefined ? {} : { held: h.held }),
    at: h.t,
    confirmed: o !== undefined,
    ...(o === undefined ? {} : { counterpartySeq: o.payload.seq, counterpartyCid: o.cid.toString() }),
  }
}

export function forkView(proof: ForkProof): ForkView {
  return {
    offender: proof.offender,
    ...(proof.identity === undefined ? {} : { identity: proof.identity }),
    seq: proof.seq,
    halves: [proof.a.cid.toString(), proof.b.cid.toString()],
    at: proof.at,
    proof: Buffer.from(proof.bytes).toString('base64'),
  }
}

export function counterpartyView(s: CounterpartySummary): CounterpartyView {
  const kinds = SERVICE_KINDS.flatMap((kind) => {
    const t = s.kinds[kind]
    return t === undefined ? [] : [{ kind, given: t.out, received: t.in, held: t.held }]
  })
  return {
    peer: s.peer,
    ...(s.identity === undefined ? {} : { identity: s.identity }),
    given: kinds.reduce((n, k) => n + k.given, 0),
    received: kinds.reduce((n, k) => n + k.received, 0),
    held: kinds.reduce((n, k) => n + k.held, 0),
    kinds,
    receipts: s.receipts,
    unconfirmed: s.unconfirmed,
    lastAt: s.lastAt,
  }
}
