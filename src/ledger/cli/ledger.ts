/** `lateral ledger ...` and `lateral reputation ...`: receipts, chains, forks, reputation. */
import type { Command } from 'commander'
import { ApiClient } from '../../cli/client.ts'
import { emit, examples, globals, table } from '../../cli/output.ts'
import { ChainInvalidError, ForkProvenError } from '../../core/errors.ts'
import { formatBytes } from '../../core/units.ts'
import type {
  ForkView,
  LedgerSummary,
  PathView,
  PeerReceipts,
  ReceiptView,
  ReputationView,
  VerifyBody,
  VerifyView,
} from '../api/schemas.ts'

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
const short = (id: string) => (id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id)
const bytes = (n: number) => formatBytes(Math.round(n))
const path = (target: string) => encodeURIComponent(target)

function forkLines(forks: ForkView[]): string[] {
  return forks.map(
    (f) =>
      `FORK: ${f.offender}${f.identity === undefined ? '' : ` (identity ${short(f.identity)})`} signed two halves at position ${f.seq}: ${f.halves.join(' and ')}`,
  )
}

function describeSummary(s: LedgerSummary): string {
  const head = s.head === undefined ? 'empty' : `head ${s.head.seq} (${s.head.cid})`
  const lines = [
    `Chain of ${s.peerId}: ${head}, ${s.length} entries${s.unconfirmed > 0 ? `, ${s.unconfirmed} unconfirmed proposals` : ''}`,
    s.forks.length === 0 ? 'Fork proofs: none' : `Fork proofs: ${s.forks.length}`,
    ...forkLines(s.forks),
    '',
  ]
  if (s.counterparties.length === 0) return [...lines, 'No receipts yet: nothing given or received.'].join('\n')
  const rows = s.counterparties.map((c) => [
    short(c.peer),
    c.identity === undefined ? '-' : short(c.identity),
    bytes(c.given),
    bytes(c.received),
    c.held === 0 ? '-' : bytes(c.held),
    String(c.receipts),
    String(c.unconfirmed),
    when(c.lastAt),
  ])
  return [
    ...lines,
    table(['PEER', 'IDENTITY', 'GIVEN', 'RECEIVED', 'HELD', 'RECEIPTS', 'UNCONFIRMED', 'LAST'], rows),
  ].join('\n')
}

function describeReceipts(r: PeerReceipts): string {
  const who = r.contact ?? r.identity ?? r.target
  if (r.receipts.length === 0) return `No receipts with ${who}.`
  const rows = r.receipts.map((x: ReceiptView) => [
    String(x.seq),
    short(x.peer),
    x.kind,
    x.role,
    bytes(x.given),
    bytes(x.received),
    x.confirmed ? `yes (their ${x.counterpartySeq})` : 'no',
    when(x.at),
  ])
  return [
    `Receipts with ${who} (newest first; counts are cumulative):`,
    table(['SEQ', 'DEVICE', 'KIND', 'ROLE', 'GIVEN', 'RECEIVED', 'CO-SIGNED', 'SIGNED AT'], rows),
  ].join('\n')
}

function describeVerify(v: VerifyView): string {
  const lines = [
    `Chain of ${v.peer}: ${v.length} entries, ${v.verified} verified; ${v.complete} complete receipts, ${v.unconfirmed} unconfirmed proposals.`,
  ]
  if (v.error !== undefined) lines.push(`INVALID: ${v.error}`)
  lines.push(...forkLines(v.forks))
  if (v.valid) lines.push('Valid: every entry checked, no fork known.')
  return lines.join('\n')
}

function pathLines(title: string, paths: PathView[], many: boolean): string[] {
  if (paths.length === 0) return [`  ${title}: nothing`]
  return [
    `  ${title}:`,
    ...paths.map((p) => {
      const from = many ? `${short(p.device)} ` : ''
      const via = p.via.length === 0 ? 'direct' : `via ${p.via.map(short).join(' > ')}`
      const cap = p.shared ? ` (could carry ${bytes(p.capacity)}; its last receipt is shared with other peers)` : ''
      return `    ${bytes(p.bytes).padStart(10)}  ${from}${via}${cap}`
    }),
  ]
}

function describeReputation(r: ReputationView): string {
  const who = r.contact ?? (r.devices.length === 1 ? r.devices[0] : r.identity) ?? r.target
  const sign = r.score > 0 ? '+' : r.score < 0 ? '-' : ''
  const lines = [
    `${who}: ${r.standing} (weight ${r.weight} under contention; a newcomer has 4)`,
    `  gave ${bytes(r.gave)}, took ${bytes(r.took)}, score ${sign}${bytes(Math.abs(r.score))}`,
  ]
  if (r.fork !== undefined) lines.push(...forkLines([r.fork]).map((l) => `  ${l}`))
  if (r.explanation !== undefined) {
    const many = r.devices.length > 1
    lines.push(
      ...pathLines('Gave this node', r.explanation.gave, many),
      ...pathLines('Took from this node', r.explanation.took, many),
    )
  }
  return lines.join('\n')
}

export function registerLedger(program: Command): void {
  const ledger = program
    .command('ledger')
    .description(
      'receipts of what this node gave and received, both sides signed, on its hash chain; with a peer: the receipts with it',
    )
    .argument('[peer-or-contact]', 'show the receipts with one counterparty (a peer ID, contact name or identity ID)')
    .option('--limit <n>', 'receipts at most (newest first)')
    .addHelpText(
      'after',
      examples(
        'lateral ledger',
        'lateral ledger bob',
        'lateral ledger 12D3KooW... --limit 20 --json',
        'lateral ledger verify 12D3KooW...',
      ),
    )
    .action(async (target: string | undefined, opts: { limit?: string }, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      if (target === undefined) {
        const summary = await client.get<LedgerSummary>('/v1/ledger')
        emit(g, summary, () => describeSummary(summary))
        return
      }
      const limit = opts.limit === undefined ? '' : `?limit=${encodeURIComponent(opts.limit)}`
      const receipts = await client.get<PeerReceipts>(`/v1/ledger/peers/${path(target)}${limit}`)
      emit(g, receipts, () => describeReceipts(receipts))
    })

  ledger
    .command('verify')
    .description(
      "fetch another peer's chain and check every entry; prints any fork found (exit 30 for a fork, 31 for an invalid chain)",
    )
    .argument('<peer>', 'a peer ID, or a contact with one device')
    .addHelpText('after', examples('lateral ledger verify 12D3KooW...', 'lateral ledger verify bob --json'))
    .action(async (peer: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const v = await (await ApiClient.forHome(g.home)).post<VerifyView>('/v1/ledger/verify', {
        peer,
      } satisfies VerifyBody)
      emit(g, v, () => describeVerify(v))
      if (v.forks.length > 0) throw new ForkProvenError(`${v.peer} forked its chain at position ${v.forks[0]?.seq}`)
      if (v.error !== undefined) throw new ChainInvalidError(`the chain of ${v.peer} is invalid: ${v.error}`)
    })

  program
    .command('reputation')
    .description("this node's view of a peer's contribution: what flowed from it and to it over the receipts seen")
    .argument('<peer-or-contact>', 'a peer ID, a contact name or an identity ID')
    .option('--explain', 'show the paths (direct, or through one counterparty) the contribution comes from')
    .addHelpText(
      'after',
      examples('lateral reputation bob', 'lateral reputation 12D3KooW... --explain', 'lateral reputation bob --json'),
    )
    .action(async (target: string, opts: { explain?: boolean }, cmd: Command) => {
      const g = globals(cmd)
      const query = opts.explain === true ? '?explain=true' : ''
      const r = await (await ApiClient.forHome(g.home)).get<ReputationView>(`/v1/reputation/${path(target)}${query}`)
      emit(g, r, () => describeReputation(r))
    })
}
