import type { Command } from 'commander'
import { ApiClient } from '../../cli/client.ts'
import { liveEvents, untilInterrupted } from '../../cli/events.ts'
import { formatMessage, shortPeer } from '../../cli/message-format.ts'
import { emit, examples, globals, table } from '../../cli/output.ts'
import { InvalidInputError, MessageRefusedError } from '../../core/errors.ts'
import type {
  AnySendReply,
  DirectMessagesReply,
  DirectMessageView,
  InboxDeleteBody,
  InboxDeleteReply,
  SendBody,
  SendReply,
} from '../api/schemas.ts'

export function registerMsg(program: Command): void {
  const msg = program
    .command('msg')
    .description('end-to-end encrypted direct messages; queued and retried while the recipient is offline')
    .addHelpText(
      'after',
      examples('lateral msg send 12D3KooWAbc... "hi"', 'lateral msg inbox --follow', 'lateral msg outbox'),
    )

  msg
    .command('send')
    .description(
      'send a direct message to a device, or to a person (every current device); says whether it was delivered or queued',
    )
    .argument('<to>', 'a peer ID, an identity ID, or a contact name (lateral contact add)')
    .argument('<text>', 'message text')
    .addHelpText(
      'after',
      examples('lateral msg send bob "see you at 6"', 'lateral msg send 12D3KooWAbc... "hi" --json'),
    )
    .action(async (peer: string, text: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const reply = await (await ApiClient.forHome(g.home)).post<AnySendReply>('/v1/messages', {
        to: peer,
        text,
      } satisfies SendBody)
      if ('devices' in reply) {
        const who = reply.contact ?? reply.identity
        if (reply.status === 'failed') {
          throw new MessageRefusedError(`message refused by every device of ${who}: ${reply.devices[0]?.error ?? ''}`)
        }
        emit(g, reply, () =>
          [
            `To ${who}:`,
            ...reply.devices.map(
              (d) => `  ${shortPeer(d.to)}  ${d.status}${d.error === undefined ? '' : ` (${d.error})`}`,
            ),
          ].join('\n'),
        )
        return
      }
      const result: SendReply = reply
      if (result.status === 'failed')
        throw new MessageRefusedError(`message refused by ${peer}: ${result.error ?? 'unknown reason'}`)
      emit(g, result, () =>
        result.status === 'delivered'
          ? `Delivered to ${peer} (id ${result.id})`
          : `Queued for ${peer}: not reachable now (${result.error ?? 'offline'}); it will be retried when they come back (id ${result.id})`,
      )
    })

  msg
    .command('inbox')
    .description('received direct messages, newest last; --follow keeps printing new ones')
    .option('-f, --follow', 'keep waiting for new messages until Ctrl-C')
    .addHelpText('after', examples('lateral msg inbox', 'lateral msg inbox --follow', 'lateral msg inbox --json'))
    .action(async (opts: { follow?: boolean }, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      const signal = opts.follow === true ? untilInterrupted() : undefined
      // Start listening before listing, so nothing falls between the two.
      const live = signal === undefined ? undefined : liveEvents(client, signal)
      const first = live === undefined ? undefined : live.next()
      const { messages } = await client.get<DirectMessagesReply>('/v1/messages/inbox')
      const print = (m: DirectMessageView) =>
        process.stdout.write(g.json && opts.follow === true ? `${JSON.stringify(m)}\n` : `${formatMessage(m)}\n`)
      if (opts.follow !== true) {
        emit(g, { messages }, () =>
          messages.length === 0 ? 'Inbox is empty.' : messages.map((m) => formatMessage(m)).join('\n'),
        )
        return
      }
      const shown = new Set<string>()
      for (const m of messages) {
        shown.add(m.id)
        print(m)
      }
      if (live === undefined || first === undefined) return
      for (let next = await first; next.done !== true; next = await live.next()) {
        const m = next.value.data as DirectMessageView
        if (next.value.event === 'dm:received' && !shown.has(m.id)) {
          shown.add(m.id)
          print(m)
        }
      }
    })

  msg
    .command('outbox')
    .description('direct messages waiting for their recipient, with attempts and the last error')
    .addHelpText('after', examples('lateral msg outbox', 'lateral msg outbox --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const { messages } = await (await ApiClient.forHome(g.home)).get<DirectMessagesReply>('/v1/messages/outbox')
      emit(g, { messages }, () =>
        messages.length === 0
          ? 'Outbox is empty.'
          : table(
              ['TO', 'SEQ', 'ATTEMPTS', 'STATE', 'TEXT'],
              messages.map((m) => [
                shortPeer(m.to),
                String(m.seq),
                String(m.attempts ?? 0),
                m.failed === true ? `failed: ${m.lastError ?? ''}` : 'waiting',
                m.text ?? `(${m.type})`,
              ]),
            ),
      )
    })

  msg
    .command('delete')
    .description('delete messages from the inbox by ID, or all with --all')
    .argument('[ids...]', 'message IDs (from `lateral msg inbox --json`)')
    .option('--all', 'empty the inbox')
    .addHelpText('after', examples('lateral msg delete 63517aeb83e07acadeca61e4f9c83864', 'lateral msg delete --all'))
    .action(async (ids: string[], opts: { all?: boolean }, cmd: Command) => {
      const g = globals(cmd)
      if (ids.length === 0 && opts.all !== true) throw new InvalidInputError('name message IDs, or pass --all')
      const result = await (await ApiClient.forHome(g.home)).post<InboxDeleteReply>(
        '/v1/messages/inbox/delete',
        (opts.all === true ? {} : { ids }) satisfies InboxDeleteBody,
      )
      emit(g, result, () => `Deleted ${result.deleted} message${result.deleted === 1 ? '' : 's'}.`)
    })
}
