/** `lateral store ...`: content kept for you by peers you delegated, checked at random times; and what you keep for others. */
import type { Command } from 'commander'
import { ApiClient } from '../../cli/client.ts'
import { shortPeer } from '../../cli/message-format.ts'
import { emit, examples, formatMs, globals, table } from '../../cli/output.ts'
import { PeerUnreachableError, ProofFailedError } from '../../core/errors.ts'
import { formatBytes } from '../../core/units.ts'
import type {
  CheckReply,
  DropReply,
  ListReply,
  PlacementViewReply,
  PutReply,
  StorageCheckView,
  StoreBody,
} from '../api/schemas.ts'

const when = (ms: number | undefined) =>
  ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
const keeper = (p: { peer: string; contact?: string }) =>
  p.contact === undefined ? shortPeer(p.peer) : `${p.contact} (${shortPeer(p.peer)})`
const shortId = (id: string) => (id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id)

function checkText(c: StorageCheckView | undefined): string {
  if (c === undefined) return 'not checked yet'
  const rtt = c.rttMs === undefined ? '' : `, ${formatMs(c.rttMs)}`
  return `${c.status} (${c.kind}${rtt})${c.reason === undefined ? '' : `: ${c.reason}`}`
}

function placedTable(placed: PlacementViewReply[]): string {
  if (placed.length === 0) return 'Nothing is kept for you by others (lateral store put CID --on PEER).'
  return table(
    ['CID', 'KEEPER', 'SIZE', 'SINCE', 'LAST PROVEN', 'LAST CHECK'],
    placed.map((p) => [
      p.cid,
      keeper(p),
      formatBytes(p.size),
      when(p.since),
      when(p.lastProvenAt),
      checkText(p.lastCheck),
    ]),
  )
}

function listText(reply: ListReply): string {
  const parts = ['Kept for you:', placedTable(reply.placed)]
  if (reply.keptFor.length > 0) {
    parts.push(
      '',
      'Kept here for others:',
      table(
        ['IDENTITY', 'USED', 'QUOTA', 'COPIES', 'GRANT'],
        reply.keptFor.map((u) => [
          u.contact ?? shortId(u.subject),
          formatBytes(u.usedBytes),
          u.quota === undefined ? '-' : formatBytes(u.quota),
          String(u.copies),
          u.state === 'active' ? `active until ${when(u.expiresAt)}` : `lapsed: dropped at ${when(u.dropAt)}`,
        ]),
      ),
      '',
      table(
        ['CID', 'FOR', 'SIZE', 'SINCE'],
        reply.kept.map((c) => [c.cid, c.contact ?? shortId(c.subject), formatBytes(c.size), when(c.since)]),
      ),
    )
  }
  return parts.join('\n')
}

export function registerStore(program: Command): void {
  const store = program
    .command('store')
    .description(
      'have peers you delegated (store/put) keep your content, prove at random times that they still do, and see what you keep for others',
    )
    .addHelpText(
      'after',
      examples(
        'lateral delegate grant bob --can store/put --quota 10GiB --until 2027-06-01',
        'lateral store put bafybei... --on bob',
        'lateral store list',
        'lateral store check bafybei... --on bob',
        'lateral store drop bafybei... --on bob',
      ),
    )

  store
    .command('put')
    .description(
      'ask a keeper to keep content this node has, within its grant: it fetches the content, then pins it; waits until it is kept',
    )
    .argument('<cid>', 'root CID of content stored here (lateral add)')
    .requiredOption(
      '--on <peer-or-contact>',
      'a peer ID, a contact name or an identity ID (each of its devices that holds a grant)',
    )
    .addHelpText(
      'after',
      examples('lateral store put bafybei... --on bob', 'lateral store put bafybei... --on 12D3KooW... --json'),
    )
    .action(async (cid: string, opts: { on: string }, cmd: Command) => {
      const g = globals(cmd)
      const reply = await (await ApiClient.forHome(g.home)).post<PutReply>('/v1/storage/put', {
        cid,
        on: opts.on,
      } satisfies StoreBody)
      emit(g, reply, () =>
        reply.keepers
          .map((k) =>
            k.status === 'kept'
              ? `Kept by ${shortPeer(k.peer)}: ${formatBytes(k.size ?? 0)}`
              : `Not kept by ${shortPeer(k.peer)} (${k.status}): ${k.error ?? ''}`,
          )
          .join('\n'),
      )
    })

  store
    .command('list')
    .description('what is kept for you where, with when each copy was last proven; and what you keep for others')
    .option('--on <peer-or-contact>', 'only copies on this keeper (peer ID, contact name or identity ID)')
    .addHelpText('after', examples('lateral store list', 'lateral store list --on bob --json'))
    .action(async (opts: { on?: string }, cmd: Command) => {
      const g = globals(cmd)
      const query = opts.on === undefined ? '' : `?on=${encodeURIComponent(opts.on)}`
      const reply = await (await ApiClient.forHome(g.home)).get<ListReply>(`/v1/storage${query}`)
      emit(g, reply, () => (opts.on === undefined ? listText(reply) : placedTable(reply.placed)))
    })

  store
    .command('check')
    .description(
      'a storage challenge now: the keeper must prove it still holds the content (exit code 23 when it fails)',
    )
    .argument('<cid>', 'root CID of a copy placed with the keeper')
    .requiredOption('--on <peer-or-contact>', 'the keeper: a peer ID, a contact name or an identity ID')
    .addHelpText(
      'after',
      examples('lateral store check bafybei... --on bob', 'lateral store check bafybei... --on bob --json'),
    )
    .action(async (cid: string, opts: { on: string }, cmd: Command) => {
      const g = globals(cmd)
      const reply = await (await ApiClient.forHome(g.home)).post<CheckReply>('/v1/storage/check', {
        cid,
        on: opts.on,
      } satisfies StoreBody)
      emit(g, reply, () => reply.checks.map((c) => `${shortPeer(c.peer)}: ${checkText(c)}`).join('\n'))
      const failed = reply.checks.filter((c) => c.status === 'failed')
      if (failed.length > 0) {
        throw new ProofFailedError(
          `storage check failed on ${failed.map((c) => `${c.peer}: ${c.reason ?? 'no reason'}`).join('; ')}`,
        )
      }
      if (reply.checks.every((c) => c.status === 'unreachable')) {
        throw new PeerUnreachableError(`no keeper answered: ${reply.checks[0]?.reason ?? ''}`)
      }
    })

  store
    .command('drop')
    .description('ask the keeper to drop its copy (it unpins it), and forget it here')
    .argument('<cid>', 'root CID of a copy placed with the keeper')
    .requiredOption('--on <peer-or-contact>', 'the keeper: a peer ID, a contact name or an identity ID')
    .addHelpText('after', examples('lateral store drop bafybei... --on bob'))
    .action(async (cid: string, opts: { on: string }, cmd: Command) => {
      const g = globals(cmd)
      const reply = await (await ApiClient.forHome(g.home)).post<DropReply>('/v1/storage/drop', {
        cid,
        on: opts.on,
      } satisfies StoreBody)
      emit(g, reply, () => `Dropped by ${reply.dropped.map(shortPeer).join(', ')}.`)
    })
}
