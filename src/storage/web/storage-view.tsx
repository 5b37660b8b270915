/**
 * Storage: what peers keep for this person (size, since, when last proven, the last check's
 * result, with Check now and Drop), asking a peer to keep something, and what this node keeps for
 * others, per identity with its quota used.
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { Bar, Card, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { bytes, short } from '../../../web/src/format.ts'
import { useLoad } from '../../../web/src/hooks.ts'
import type { ServiceView } from '../../../web/src/service-view.ts'
import type {
  CheckReply,
  DropReply,
  KeptCopyView,
  ListReply,
  PlacementViewReply,
  PutReply,
  StorageCheckView,
  StoreBody,
  SubjectUsageView,
} from '../api/schemas.ts'

const when = (ms: number | undefined) => (ms === undefined ? '–' : new Date(ms).toLocaleString())

export function StorageView() {
  const list = useLoad(() => api.get<ListReply>('/v1/storage'), {
    everyMs: 15_000,
    refreshOn: [
      'storage:placed',
      'storage:withdrawn',
      'storage:checked',
      'storage:kept',
      'storage:dropped',
      'grant:changed',
    ],
  })
  const data = list.data
  return (
    <div class="grid" data-view="storage">
      <ErrorNote error={list.error} />
      <Put onDone={list.reload} />
      <Placed rows={data?.placed ?? []} onChange={list.reload} />
      <KeptForOthers usage={data?.keptFor ?? []} copies={data?.kept ?? []} />
    </div>
  )
}

function Put({ onDone }: { onDone: () => void }) {
  const [cid, setCid] = useState('')
  const [on, setOn] = useState('')
  const [result, setResult] = useState<PutReply | undefined>(undefined)
  const put = useAction(async () => {
    setResult(undefined)
    setResult(await api.post<PutReply>('/v1/storage/put', { cid: cid.trim(), on: on.trim() } satisfies StoreBody))
    onDone()
  })
  return (
    <Card title="Have a peer keep a copy">
      <form
        class="stack"
        data-testid="put-form"
        onSubmit={(e) => {
          e.preventDefault()
          if (cid.trim() !== '' && on.trim() !== '') void put.run()
        }}
      >
        <input
          name="cid"
          placeholder="CID of content this node has"
          value={cid}
          onInput={(e) => setCid((e.target as HTMLInputElement).value)}
        />
        <input
          name="on"
          placeholder="On: a peer ID, a contact name or an identity ID"
          value={on}
          onInput={(e) => setOn((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={put.busy}>
          {put.busy ? 'The keeper is fetching it…' : 'Keep it there'}
        </button>
        <ErrorNote error={put.error} />
        {result === undefined ? null : (
          <ul class="small" data-testid="put-result">
            {result.keepers.map((k) => (
              <li key={k.peer}>
                <code title={k.peer}>{short(k.peer)}</code>:{' '}
                {k.status === 'kept' ? `kept (${bytes(k.size)})` : `${k.status}: ${k.error ?? ''}`}
              </li>
            ))}
          </ul>
        )}
        <p class="muted small">
          The peer must hold a store/put grant from you (Delegations). It fetches the content from you, then checks come
          at random times.
        </p>
      </form>
    </Card>
  )
}

function Placed({ rows, onChange }: { rows: PlacementViewReply[]; onChange: () => void }) {
  return (
    <Card title={`Kept for me (${rows.length})`} wide>
      {rows.length === 0 ? (
        <p class="muted">No peer keeps anything for you yet.</p>
      ) : (
        <table data-testid="placed">
          <thead>
            <tr>
              <th>Content</th>
              <th>Keeper</th>
              <th>Size</th>
              <th>Since</th>
              <th>Last proven</th>
              <th>Last check</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => (
              <PlacedRow key={`${p.peer}/${p.cid}`} placement={p} onChange={onChange} />
            ))}
          </tbody>
        </table>
      )}
    </Card>
  )
}

function CheckBadge({ check }: { check: StorageCheckView | undefined }) {
  if (check === undefined) return <span class="muted small">not checked yet</span>
  const cls = check.status === 'proven' ? 'ok' : check.status === 'failed' ? 'failed' : ''
  return (
    <span class={`badge ${cls}`} title={check.reason ?? ''}>
      {check.status}
      {check.rttMs === undefined ? '' : ` · ${check.rttMs} ms`}
    </span>
  )
}

function PlacedRow({ placement: p, onChange }: { placement: PlacementViewReply; onChange: () => void }) {
  const body: StoreBody = { cid: p.cid, on: p.peer }
  const check = useAction(async () => {
    await api.post<CheckReply>('/v1/storage/check', body)
    onChange()
  })
  const drop = useAction(async () => {
    await api.post<DropReply>('/v1/storage/drop', body)
    onChange()
  })
  return (
    <tr data-cid={p.cid} data-peer={p.peer}>
      <td>
        <code title={p.cid}>{short(p.cid)}</code>
      </td>
      <td>
        {p.contact === undefined ? null : <span>{p.contact} </span>}
        <code title={p.peer}>{short(p.peer)}</code>
      </td>
      <td>{bytes(p.size)}</td>
      <td>{when(p.since)}</td>
      <td data-testid="last-proven">{when(p.lastProvenAt)}</td>
      <td data-testid="last-check">
        <CheckBadge check={p.lastCheck} />
        {p.lastCheck?.status === 'failed' ? <div class="small">{p.lastCheck.reason}</div> : null}
      </td>
      <td>
        <div class="row">
          <button type="button" class="small" disabled={check.busy} onClick={() => void check.run()}>
            Check now
          </button>
          <button type="button" class="small danger" disabled={drop.busy} onClick={() => void drop.run()}>
            Drop
          </button>
        </div>
        <ErrorNote error={check.error ?? drop.error} />
      </td>
    </tr>
  )
}

function KeptForOthers({ usage, copies }: { usage: SubjectUsageView[]; copies: KeptCopyView[] }) {
  return (
    <Card title={`Kept here for others (${usage.length})`} wide>
      {usage.length === 0 ? (
        <p class="muted">This node keeps nothing for others.</p>
      ) : (
        <table data-testid="kept-for">
          <thead>
            <tr>
              <th>For</th>
              <th>Quota used</th>
              <th>Copies</th>
              <th>Grant</th>
            </tr>
          </thead>
          <tbody>
            {usage.map((u) => (
              <tr key={u.subject} data-subject={u.subject}>
                <td>
                  {u.contact ?? <code title={u.subject}>{short(u.subject)}</code>}
                  <ul class="small muted">
                    {copies
                      .filter((c) => c.subject === u.subject)
                      .map((c) => (
                        <li key={c.cid}>
                          <code title={c.cid}>{short(c.cid)}</code> {bytes(c.size)}
                        </li>
                      ))}
                  </ul>
                </td>
                <td>
                  {bytes(u.usedBytes)} of {u.quota === undefined ? 'no quota' : bytes(u.quota)}
                  {u.quota === undefined ? null : <Bar value={u.usedBytes} max={u.quota} />}
                </td>
                <td>{u.copies}</td>
                <td>
                  {u.state === 'active' ? (
                    <span class="badge ok">active until {when(u.expiresAt)}</span>
                  ) : (
                    <span class="badge failed">lapsed: dropped at {when(u.dropAt)}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  )
}

/** The dashboard's view of the storage service. */
export const storageView: ServiceView = { id: 'storage', title: 'Storage', View: StorageView }
