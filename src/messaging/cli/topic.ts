import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { ApiClient } from '../../cli/client.ts'
import { liveEvents, untilInterrupted } from '../../cli/events.ts'
import { formatMessage } from '../../cli/message-format.ts'
import { emit, examples, globals, table } from '../../cli/output.ts'
import type { MessageBody, PublishReply, TopicMessageView, TopicPeersReply, TopicsReply } from '../api/schemas.ts'

type TopicEvent = TopicMessageView

const enc = encodeURIComponent

export function registerTopic(program: Command): void {
  const topic = program
    .command('topic')
    .description('many-to-many messages in named topics (gossipsub, signed by each sender)')
    .addHelpText(
      'after',
      examples('lateral topic join general', 'lateral topic pub general "hello"', 'lateral topic sub general --json'),
    )

  topic
    .command('join')
    .description('chat in a topic: incoming messages are shown, each line you type is published; Ctrl-C leaves')
    .argument('<name>', 'topic name (letters, digits, ".", "_", "-")')
    .addHelpText('after', examples('lateral topic join general', 'echo "hello" | lateral topic join general'))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      await client.post(`/v1/topics/${enc(name)}/join`, {})
      const signal = untilInterrupted()
      const rl = createInterface({
        input: process.stdin,
        output: process.stdout,
        terminal: process.stdin.isTTY === true,
      })
      const interactive = process.stdin.isTTY === true
      const print = (line: string) => {
        if (interactive) {
          process.stdout.write(`\r\x1b[K${line}\n`)
          rl.prompt(true)
        } else {
          process.stdout.write(`${line}\n`)
        }
      }
      const peers = await client.get<TopicPeersReply>(`/v1/topics/${enc(name)}/peers`)
      print(`Joined "${name}" (${peers.peers.length} peers). Type a message and press Enter; Ctrl-C leaves.`)
      rl.setPrompt(`${name}> `)
      rl.on('line', (line) => {
        if (line.trim() === '') return rl.prompt()
        client.post<PublishReply>(`/v1/topics/${enc(name)}/publish`, { text: line } satisfies MessageBody).then(
          () => rl.prompt(),
          (err: Error) => print(`(not sent: ${err.message})`),
        )
      })
      rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'))
      rl.prompt()
      try {
        for await (const e of liveEvents(client, signal)) {
          const m = e.data as TopicEvent
          if (e.event === 'topic:message' && m.topic === name) print(formatMessage(m))
        }
      } finally {
        rl.close()
        await client.post(`/v1/topics/${enc(name)}/leave`, {}).catch(() => {})
      }
    })

  topic
    .command('pub')
    .description('publish one message to a topic')
    .argument('<name>', 'topic name')
    .argument('<text>', 'message text')
    .addHelpText(
      'after',
      examples('lateral topic pub general "hello everyone"', 'lateral topic pub general "hi" --json'),
    )
    .action(async (name: string, text: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      const result = await client.post<PublishReply>(`/v1/topics/${enc(name)}/publish`, { text } satisfies MessageBody)
      emit(
        g,
        result,
        () => `Published to ${result.recipients} peer${result.recipients === 1 ? '' : 's'} (id ${result.id})`,
      )
    })

  topic
    .command('sub')
    .description("print a topic's incoming messages until Ctrl-C (--json: one JSON object per line)")
    .argument('<name>', 'topic name')
    .addHelpText('after', examples('lateral topic sub general', 'lateral topic sub general --json | jq -r .text'))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      await client.post(`/v1/topics/${enc(name)}/join`, {})
      const signal = untilInterrupted()
      try {
        if (!g.json) process.stderr.write(`Subscribed to "${name}"; Ctrl-C to stop.\n`)
        for await (const e of liveEvents(client, signal)) {
          const m = e.data as TopicEvent
          if (e.event !== 'topic:message' || m.topic !== name) continue
          process.stdout.write(g.json ? `${JSON.stringify(m)}\n` : `${formatMessage(m)}\n`)
        }
      } finally {
        await client.post(`/v1/topics/${enc(name)}/leave`, {}).catch(() => {})
      }
    })

  topic
    .command('peers')
    .description('peers subscribed to a topic')
    .argument('<name>', 'topic name')
    .addHelpText('after', examples('lateral topic peers general'))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const result = await (await ApiClient.forHome(g.home)).get<TopicPeersReply>(`/v1/topics/${enc(name)}/peers`)
      emit(g, result, () => (result.peers.length === 0 ? `No peers in "${name}".` : result.peers.join('\n')))
    })

  topic
    .command('list')
    .description('topics this node has joined')
    .addHelpText('after', examples('lateral topic list'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const result = await (await ApiClient.forHome(g.home)).get<TopicsReply>('/v1/topics')
      emit(g, result, () =>
        result.topics.length === 0
          ? 'No topics joined.'
          : table(
              ['TOPIC', 'PEERS'],
              result.topics.map((t) => [t.name, String(t.peers)]),
            ),
      )
    })
}
