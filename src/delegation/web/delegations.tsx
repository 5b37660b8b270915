/**
 * Delegations: rights this person gave to other peers (keep my files, hold my mail), and rights
 * others gave this node, each with its quota, expiry and state now; grant a new one, revoke one.
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { Card, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { bytes, short } from '../../../web/src/format.ts'
import { useLoad } from '../../../web/src/hooks.ts'
import type { ServiceView } from '../../../web/src/service-view.ts'
import type { DelegationView, GrantBody, GrantReply } from '../api/schemas.ts'

const DAY = 86_400_000
const when = (ms: number) => new Date(ms).toLocaleString()

export function DelegationsView() {
  const list = useLoad(() => api.get<GrantReply>('/v1/delegations'), {
    everyMs: 15_000,
    refreshOn: [
      'delegation:granted',
      'delegation:delivered',
      'delegation:received',
      'delegation:revoked',
      'grant:changed',
    ],
  })
  const all = list.data?.delegations ?? []
  return (
    <div class="grid" data-view="delegations">
      <ErrorNote error={list.error} />
      <Grant onDone={list.reload} />
      <Table
        title="Given"
        testid="given"
        rows={all.filter((d) => d.direction === 'given')}
        empty="You have given no rights yet."
        onChange={list.reload}
      />
      <Table
        title="Received"
        testid="received"
        rows={all.filter((d) => d.direction === 'received')}
        empty="No one has given this node a right yet."
        onChange={list.reload}
      />
    </div>
  )
}

function Grant({ onDone }: { onDone: () => void }) {
  const [to, setTo] = useState('')
  const [can, setCan] = useState('store/put')
  const [quota, setQuota] = useState('1024')
  const [days, setDays] = useState('30')
  const grant = useAction(async () => {
    const body: GrantBody = { to: to.trim(), can, until: Date.now() + Number(days) * DAY }
    if (quota.trim() !== '') body.quota = Math.round(Number(quota) * 1024 * 1024)
    await api.post<GrantReply>('/v1/delegations', body)
    setTo('')
    onDone()
  })
  return (
    <Card title="Grant a right">
      <form
        class="stack"
        data-testid="grant-form"
        onSubmit={(e) => {
          e.preventDefault()
          if (to.trim() !== '') void grant.run()
        }}
      >
        <input
          name="to"
          placeholder="To: a peer ID, a contact name or an identity ID"
          value={to}
          onInput={(e) => setTo((e.target as HTMLInputElement).value)}
        />
        <select name="can" value={can} onChange={(e) => setCan((e.target as HTMLSelectElement).value)}>
          <option value="store/put">may keep my files (store/put)</option>
          <option value="msg/deposit">may hold my mail while my devices are away (msg/deposit)</option>
        </select>
        <div class="row">
          <input
            name="quota"
            inputMode="numeric"
            placeholder="Quota, MiB"
            title="Quota, MiB"
            value={quota}
            onInput={(e) => setQuota((e.target as HTMLInputElement).value)}
          />
          <span class="muted small">MiB, for</span>
          <input
            name="days"
            inputMode="numeric"
            placeholder="Days"
            title="Days"
            value={days}
            onInput={(e) => setDays((e.target as HTMLInputElement).value)}
          />
          <span class="muted small">days</span>
        </div>
        <button type="submit" disabled={grant.busy}>
          Grant
        </button>
        <ErrorNote error={grant.error} />
        <p class="muted small">
          A signed delegation, sent to them. It ends by itself at the date chosen; you can revoke it sooner.
        </p>
      </form>
    </Card>
  )
}

function Table(props: { title: string; testid: string; rows: DelegationView[]; empty: string; onChange: () => void }) {
  return (
    <Card title={`${props.title} (${props.rows.length})`}>
      {props.rows.length === 0 ? (
        <p class="muted">{props.empty}</p>
      ) : (
        <table data-testid={props.testid}>
          <thead>
            <tr>
              <th>{props.testid === 'given' ? 'To' : 'From'}</th>
              <th>Right</th>
              <th>Used / quota</th>
              <th>Until</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.rows.map((d) => (
              <Row key={d.cid} delegation={d} onChange={props.onChange} />
            ))}
          </tbody>
        </table>
      )}
    </Card>
  )
}

function Row({ delegation: d, onChange }: { delegation: DelegationView; onChange: () => void }) {
  const revoke = useAction(async () => {
    await api.post<DelegationView>(`/v1/delegations/${encodeURIComponent(d.cid)}/revoke`, {})
    onChange()
  })
  const peer = d.direction === 'given' ? d.audience : d.issuer
  return (
    <tr data-cid={d.cid}>
      <td>
        <code title={peer}>{short(peer)}</code>
      </td>
      <td>
        <code>{d.command}</code>
      </td>
      <td>
        {d.used === undefined ? null : `${bytes(d.used)} of `}
        {d.quota === undefined ? (d.used === undefined ? '-' : 'no quota') : bytes(d.quota)}
      </td>
      <td>{when(d.expiresAt)}</td>
      <td>
        <span
          class={`badge ${d.state === 'active' ? 'ok' : d.state === 'pending' ? '' : 'failed'}`}
          title={d.reason ?? ''}
        >
          {d.state}
        </span>
        {d.direction === 'given' && d.delivered === false ? <span class="muted small"> not delivered yet</span> : null}
      </td>
      <td>
        {d.direction === 'given' && (d.state === 'active' || d.state === 'pending') ? (
          <button type="button" class="small danger" disabled={revoke.busy} onClick={() => void revoke.run()}>
            Revoke
          </button>
        ) : null}
        <ErrorNote error={revoke.error} />
      </td>
    </tr>
  )
}

/** The dashboard's view of the delegation service. */
export const delegationView: ServiceView = { id: 'delegations', title: 'Delegations', View: DelegationsView }
