/**
 * Mailboxes: the peers that hold this person's mail while their devices are away (with the last
 * collection from each, and a button to collect now), and what this node holds for others.
 */
import { api } from '../../../web/src/api.ts'
import { Bar, Card, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { bytes, duration, short } from '../../../web/src/format.ts'
import { useLoad } from '../../../web/src/hooks.ts'
import type { ServiceView } from '../../../web/src/service-view.ts'
import type { CollectBody, CollectReply, CollectResultView, MailboxStatusReply } from '../api/schemas.ts'

const when = (ms: number) => new Date(ms).toLocaleString()

function Result({ r }: { r: CollectResultView }) {
  if (r.error !== undefined)
    return (
      <span class="badge failed" title={r.error}>
        failed
      </span>
    )
  return (
    <span>
      {r.received} received
      {r.duplicates > 0 ? `, ${r.duplicates} already had` : ''}
      {r.refused > 0 ? `, ${r.refused} refused` : ''}
      {r.remaining !== undefined && r.remaining > 0 ? `, ${r.remaining} still held` : ''}
    </span>
  )
}

export function MailboxView() {
  const status = useLoad(() => api.get<MailboxStatusReply>('/v1/mailbox'), {
    everyMs: 10_000,
    refreshOn: [
      'mailbox:deposited',
      'mailbox:handed-over',
      'mailbox:dropped',
      'mailbox:collected',
      'grant:changed',
      'identity:change',
    ],
  })
  const collect = useAction(async () => {
    await api.post<CollectReply>('/v1/mailbox/collect', {} satisfies CollectBody)
    status.reload()
  })
  const s = status.data
  return (
    <div class="grid" data-view="mailbox">
      <ErrorNote error={status.error} />
      <Card
        title="My mailboxes"
        actions={
          s === undefined || s.mailboxes.length === 0 ? undefined : (
            <button type="button" class="small" disabled={collect.busy} onClick={() => void collect.run()}>
              Collect now
            </button>
          )
        }
      >
        <ErrorNote error={collect.error} />
        {s === undefined || s.mailboxes.length === 0 ? (
          <p class="muted">
            No mailbox yet. Grant a peer that is always on <code>msg/deposit</code> (Delegations) and it holds your mail
            while your devices are away.
          </p>
        ) : (
          <table data-testid="my-mailboxes">
            <thead>
              <tr>
                <th>Mailbox</th>
                <th>Connected</th>
                <th>Last collected</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {s.mailboxes.map((m) => (
                <tr key={m.peerId}>
                  <td>
                    <code title={m.peerId}>{short(m.peerId)}</code>
                  </td>
                  <td>{m.connected ? 'yes' : 'no'}</td>
                  <td>{m.last === undefined ? '-' : `${duration(Date.now() - m.last.at)} ago`}</td>
                  <td>{m.last === undefined ? '-' : <Result r={m.last} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Holding for others" wide>
        {s === undefined || s.holding.length === 0 ? (
          <p class="muted">Nothing held. People who grant this node msg/deposit have their mail kept here, sealed.</p>
        ) : (
          <>
            <p class="muted small">
              {s.total.messages} {s.total.messages === 1 ? 'message' : 'messages'}, {bytes(s.total.bytes)} of{' '}
              {bytes(s.total.maxBytes)}
            </p>
            <table data-testid="holding">
              <thead>
                <tr>
                  <th>Identity</th>
                  <th>Messages</th>
                  <th>Bytes / quota</th>
                  <th>Oldest</th>
                  <th>Grant</th>
                </tr>
              </thead>
              <tbody>
                {s.holding.map((h) => (
                  <tr key={h.identity} data-identity={h.identity}>
                    <td>
                      <code title={h.identity}>{short(h.identity, 10)}</code>
                    </td>
                    <td>{h.messages}</td>
                    <td>
                      {bytes(h.bytes)} / {h.quota === undefined ? '-' : bytes(h.quota)}
                      <Bar value={h.bytes} max={h.quota} />
                    </td>
                    <td>{when(h.oldest)}</td>
                    <td>
                      <span class={`badge ${h.grant === 'active' ? 'ok' : 'failed'}`}>{h.grant}</span>
                      {h.until === undefined ? null : (
                        <span class="muted small">
                          {' '}
                          {h.grant === 'active' ? 'until' : 'dropped at'} {when(h.until)}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </Card>
    </div>
  )
}

/** The dashboard's view of the mailbox service. */
export const mailboxView: ServiceView = { id: 'mailbox', title: 'Mailbox', View: MailboxView }
