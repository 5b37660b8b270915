/** Topics and direct messages: join a topic and talk; write to one peer end to end encrypted. */
import { useEffect, useRef, useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { Card, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { clock, short } from '../../../web/src/format.ts'
import { useEvents, useLoad } from '../../../web/src/hooks.ts'
import type { ServiceView } from '../../../web/src/service-view.ts'
import type {
  DirectMessagesReply,
  MessageBody,
  PublishReply,
  SendBody,
  SendReply,
  TopicMessagesReply,
  TopicMessageView,
  TopicNameReply,
  TopicsReply,
} from '../api/schemas.ts'

type TopicMessage = TopicMessageView

/** What topic and direct messages share: a body of some content type. */
function Body({ m }: { m: Pick<TopicMessageView, 'text' | 'base64' | 'type'> }) {
  if (m.text !== undefined) return <span class="text">{m.text}</span>
  return (
    <span class="muted">
      {m.type}, {Math.floor((m.base64.length * 3) / 4)} bytes
    </span>
  )
}

export function ChatView({ self }: { self: string | undefined }) {
  return (
    <div class="grid" data-view="chat">
      <Topics self={self} />
      <Direct self={self} />
    </div>
  )
}

function Topics({ self }: { self: string | undefined }) {
  const topics = useLoad(() => api.get<TopicsReply>('/v1/topics'), {
    everyMs: 2000,
    refreshOn: ['peer:connect', 'peer:disconnect'],
  })
  const [current, setCurrent] = useState<string | undefined>(undefined)
  const [name, setName] = useState('')
  const join = useAction(async (topic: string) => {
    await api.post<TopicNameReply>(`/v1/topics/${encodeURIComponent(topic)}/join`)
    setName('')
    setCurrent(topic)
    topics.reload()
  })
  const leave = useAction(async (topic: string) => {
    await api.post<TopicNameReply>(`/v1/topics/${encodeURIComponent(topic)}/leave`)
    setCurrent(undefined)
    topics.reload()
  })
  const list = topics.data?.topics ?? []
  const shown = current ?? list[0]?.name
  return (
    <Card title="Topics">
      <ErrorNote error={topics.error} />
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault()
          if (name.trim() !== '') void join.run(name.trim())
        }}
      >
        <input
          name="topic"
          placeholder="Topic name, e.g. general"
          value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={join.busy}>
          Join
        </button>
      </form>
      <ErrorNote error={join.error} />
      <div class="tabs" role="tablist">
        {list.map((t) => (
          <button
            type="button"
            key={t.name}
            role="tab"
            class={t.name === shown ? 'active' : ''}
            aria-selected={t.name === shown}
            onClick={() => setCurrent(t.name)}
          >
            {t.name} <span class="muted">({t.peers} peers)</span>
          </button>
        ))}
      </div>
      {shown === undefined ? (
        <p class="muted">Join a topic to talk with everyone in it.</p>
      ) : (
        <>
          <Conversation key={shown} topic={shown} self={self} />
          <button type="button" class="small" onClick={() => void leave.run(shown)}>
            Leave {shown}
          </button>
          <ErrorNote error={leave.error} />
        </>
      )}
    </Card>
  )
}

function Conversation({ topic, self }: { topic: string; self: string | undefined }) {
  const [messages, setMessages] = useState<TopicMessage[]>([])
  const loaded = useLoad(async () => {
    const r = await api.get<TopicMessagesReply>(`/v1/topics/${encodeURIComponent(topic)}/messages`)
    setMessages(r.messages)
    return r
  })
  useEvents((e) => {
    if (e.type !== 'topic:message' && e.type !== 'topic:sent') return
    const m = e.data as TopicMessage
    if (m.topic !== topic) return
    setMessages((list) => (list.some((x) => x.id === m.id) ? list : [...list, m]))
  })
  const [text, setText] = useState('')
  const send = useAction(async (body: string) => {
    await api.post<PublishReply>(`/v1/topics/${encodeURIComponent(topic)}/publish`, {
      text: body,
    } satisfies MessageBody)
    setText('')
  })
  const end = useRef<HTMLDivElement>(null)
  useEffect(() => end.current?.scrollIntoView({ block: 'nearest' }), [messages.length])
  return (
    <div class="conversation">
      <ErrorNote error={loaded.error} />
      <div class="messages" data-testid="messages">
        {messages.length === 0 ? <p class="muted">No messages yet.</p> : null}
        {messages.map((m) => (
          <div key={m.id} class={`message${m.from === self ? ' mine' : ''}`} data-testid="message">
            <span class="who" title={m.from}>
              {m.from === self ? 'me' : short(m.from)}
            </span>
            <span class="when">{clock(m.time)}</span>
            <Body m={m} />
          </div>
        ))}
        <div ref={end} />
      </div>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault()
          if (text.trim() !== '') void send.run(text)
        }}
      >
        <input
          name="message"
          placeholder={`Message ${topic}`}
          value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={send.busy}>
          Send
        </button>
      </form>
      <ErrorNote error={send.error} />
    </div>
  )
}

function Direct({ self }: { self: string | undefined }) {
  const events = ['dm:received', 'dm:delivered', 'dm:queued', 'dm:failed']
  const inbox = useLoad(() => api.get<DirectMessagesReply>('/v1/messages/inbox'), { refreshOn: events })
  const outbox = useLoad(() => api.get<DirectMessagesReply>('/v1/messages/outbox'), {
    refreshOn: events,
    everyMs: 5000,
  })
  const [to, setTo] = useState('')
  const [text, setText] = useState('')
  const [result, setResult] = useState<string | undefined>(undefined)
  const send = useAction(async () => {
    const r = await api.post<SendReply>('/v1/messages', { to: to.trim(), text } satisfies SendBody)
    setResult(r.status === 'delivered' ? 'Delivered.' : 'The peer is away: queued, it will be retried.')
    setText('')
  })
  return (
    <Card title="Direct messages">
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault()
          if (to.trim() !== '' && text.trim() !== '') void send.run()
        }}
      >
        <input
          name="to"
          placeholder="To: contact name, identity ID or peer ID (12D3KooW…)"
          value={to}
          onInput={(e) => setTo((e.target as HTMLInputElement).value)}
        />
        <div class="row">
          <input
            name="dm"
            placeholder="Message, end-to-end encrypted"
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={send.busy}>
            Send
          </button>
        </div>
      </form>
      {result === undefined ? null : <p class="muted small">{result}</p>}
      <ErrorNote error={send.error} />
      <h3>Inbox</h3>
      <ErrorNote error={inbox.error} />
      <ul class="dms" data-testid="inbox">
        {(inbox.data?.messages ?? []).length === 0 ? <li class="muted">Empty.</li> : null}
        {[...(inbox.data?.messages ?? [])].reverse().map((m) => (
          <li key={m.id}>
            <button
              type="button"
              class="link"
              title={`Reply to ${m.contact ?? m.from}${m.identity === undefined ? '' : `\nidentity ${m.identity}`}\ndevice ${m.from}`}
              onClick={() => setTo(m.contact ?? m.from)}
              data-testid="sender"
            >
              {m.contact === undefined ? short(m.from) : `${m.contact} (${short(m.from)})`}
            </button>{' '}
            <span class="when">{clock(m.time)}</span> <Body m={m} />
          </li>
        ))}
      </ul>
      <h3>Outbox (waiting for their peer)</h3>
      <ErrorNote error={outbox.error} />
      <ul class="dms" data-testid="outbox">
        {(outbox.data?.messages ?? []).length === 0 ? <li class="muted">Nothing waiting.</li> : null}
        {(outbox.data?.messages ?? []).map((m) => (
          <li key={m.id}>
            to <code title={m.to}>{short(m.to)}</code> <span class="when">{clock(m.time)}</span> <Body m={m} />
            {m.attempts === undefined ? null : (
              <span class="muted small">
                {' '}
                · {m.attempts} attempts{m.lastError === undefined ? '' : `, last: ${m.lastError}`}
              </span>
            )}
          </li>
        ))}
      </ul>
      {self === undefined ? null : <p class="muted small">Others write to you at {self}.</p>}
    </Card>
  )
}

/** The dashboard's view of the messaging service. */
export const messagingView: ServiceView = { id: 'chat', title: 'Topics & messages', View: ChatView }
