/** `lateral mailbox`: my mailboxes and what I hold for others; `lateral mailbox collect`: collect my mail now. */
import type { Command } from 'commander'
import { ApiClient } from '../../cli/client.ts'
import { shortPeer } from '../../cli/message-format.ts'
import { emit, examples, formatDuration, globals, table } from '../../cli/output.ts'
import { PeerUnreachableError } from '../../core/errors.ts'
import { formatBytes } from '../../core/units.ts'
import type { CollectBody, CollectReply, CollectResultView, MailboxStatusReply } from '../api/schemas.ts'

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16)

function collected(r: CollectResultView): string {
  const parts = [`${r.received} received`]
  if (r.duplicates > 0) parts.push(`${r.duplicates} already had`)
  if (r.refused > 0) parts.push(`${r.refused} refused`)
  if (r.remaining !== undefined && r.remaining > 0) parts.push(`${r.remaining} still held`)
  return r.error === undefined ? parts.join(', ') : `failed: ${r.error}`
}

function describe(s: MailboxStatusReply): string {
  const lines: string[] = []
  if (s.mailboxes.length === 0) {
    lines.push('My mailboxes: none (lateral delegate grant PEER --can msg/deposit --until 30d names one)')
  } else {
    lines.push('My mailboxes:')
    lines.push(
      table(
        ['MAILBOX', 'CONNECTED', 'LAST COLLECTED', 'RESULT'],
        s.mailboxes.map((m) => [
          m.peerId,
          m.connected ? 'yes' : 'no',
          m.last === undefined ? '-' : `${formatDuration(Date.now() - m.last.at)} ago`,
          m.last === undefined ? '-' : collected(m.last),
        ]),
      ),
    )
  }
  lines.push('')
  if (s.holding.length === 0) {
    lines.push('Holding for others: nothing.')
  } else {
    lines.push(
      `Holding for others: ${s.total.messages} message${s.total.messages === 1 ? '' : 's'}, ${formatBytes(s.total.bytes)} of ${formatBytes(s.total.maxBytes)}`,
    )
    lines.push(
      table(
        ['IDENTITY', 'MESSAGES', 'BYTES', 'QUOTA', 'OLDEST', 'GRANT'],
        s.holding.map((h) => [
          h.identity,
          String(h.messages),
          formatBytes(h.bytes),
          h.quota === undefined ? '-' : formatBytes(h.quota),
          when(h.oldest),
          h.grant === 'active'
            ? `active${h.until === undefined ? '' : ` until ${when(h.until)}`}`
            : `lapsed${h.until === undefined ? '' : `, dropped at ${when(h.until)}`}`,
        ]),
      ),
    )
  }
  return lines.join('\n')
}

export function registerMailbox(program: Command): void {
  const mailbox = program
    .command('mailbox')
    .description(
      'mailboxes: peers that hold your direct messages while your devices are away; what this node holds for others (lateral mailbox = lateral mailbox show)',
    )
    .addHelpText('after', examples('lateral mailbox', 'lateral mailbox --json', 'lateral mailbox collect'))

  mailbox
    .command('show', { isDefault: true })
    .description(
      'my mailboxes (last collection from each) and what I hold for others: per identity messages, bytes, quota, oldest',
    )
    .addHelpText('after', examples('lateral mailbox show', 'lateral mailbox --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const status = await (await ApiClient.forHome(g.home)).get<MailboxStatusReply>('/v1/mailbox')
      emit(g, status, () => describe(status))
    })

  mailbox
    .command('collect')
    .description("collect this device's mail now from its identity's mailboxes (or one); answers when done")
    .option('--from <peer>', 'collect from this mailbox only')
    .addHelpText('after', examples('lateral mailbox collect', 'lateral mailbox collect --from 12D3KooW... --json'))
    .action(async (opts: { from?: string }, cmd: Command) => {
      const g = globals(cmd)
      const reply = await (await ApiClient.forHome(g.home)).post<CollectReply>(
        '/v1/mailbox/collect',
        (opts.from === undefined ? {} : { mailbox: opts.from }) satisfies CollectBody,
      )
      const failed = reply.results.filter((r) => r.error !== undefined)
      if (reply.results.length > 0 && failed.length === reply.results.length) {
        throw new PeerUnreachableError(
          `no mailbox could be collected from: ${failed.map((r) => `${shortPeer(r.mailbox)}: ${r.error}`).join('; ')}`,
        )
      }
      emit(g, reply, () =>
        reply.results.length === 0
          ? 'No mailboxes to collect from.'
          : reply.results.map((r) => `${shortPeer(r.mailbox)}: ${collected(r)}`).join('\n'),
      )
    })
}
