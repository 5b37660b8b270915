/**
 * The devices of this identity, and those removed from it. Removing one is a signed entry: its
 * signatures are refused from then on, by this node and by every peer that learns the new log
 * head, and the identity's data key is rotated. So it asks for a confirmation first.
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { Card, Copy, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { duration, short } from '../../../web/src/format.ts'
import { useTick } from '../../../web/src/hooks.ts'
import type { DeviceView, IdentityReply, RemoveBody } from '../api/schemas.ts'

export function when(ms: number): string {
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })
}

export function Devices({ identity, onChange }: { identity: IdentityReply; onChange: (i: IdentityReply) => void }) {
  const now = useTick(5000)
  const nameOf = (peerId: string) => identity.devices.find((d) => d.peerId === peerId)?.name
  return (
    <Card title={`Devices (${identity.devices.length})`} wide>
      <div class="scroll">
        <table data-testid="devices">
          <thead>
            <tr>
              <th>Name</th>
              <th>Peer ID</th>
              <th>Added</th>
              <th>Last seen</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {identity.devices.map((d) => (
              <DeviceRow key={d.peerId} device={d} now={now} addedBy={d.addedBy} onChange={onChange} />
            ))}
          </tbody>
        </table>
      </div>
      {identity.removed.length === 0 ? null : (
        <>
          <h3>Removed</h3>
          <table data-testid="removed-devices">
            <tbody>
              {identity.removed.map((r) => (
                <tr key={r.peerId} data-device={r.peerId}>
                  <td>
                    <strong>{r.name}</strong> <code title={r.peerId}>{short(r.peerId)}</code>{' '}
                    {r.lost ? <span class="badge failed">lost or stolen</span> : <span class="badge">removed</span>}
                  </td>
                  <td class="muted">
                    {when(r.removedAt)} by{' '}
                    {nameOf(r.removedBy) ?? <code title={r.removedBy}>{short(r.removedBy)}</code>}
                    {r.reason === undefined ? null : <> ({r.reason})</>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="muted small">Peers that have seen the current log refuse what these devices sign from then on.</p>
        </>
      )}
    </Card>
  )
}

function DeviceRow({
  device: d,
  now,
  addedBy,
  onChange,
}: {
  device: DeviceView
  now: number
  addedBy: string | undefined
  onChange: (i: IdentityReply) => void
}) {
  const [asking, setAsking] = useState(false)
  const [lost, setLost] = useState(false)
  const remove = useAction(async () => {
    const body: RemoveBody = lost ? { lost: true } : {}
    onChange(await api.post<IdentityReply>(`/v1/identity/devices/${encodeURIComponent(d.peerId)}/remove`, body))
  })
  return (
    <>
      <tr data-device={d.peerId} data-self={d.self ? 'yes' : undefined}>
        <td>
          <strong>{d.name}</strong> {d.self ? <span class="badge done">this device</span> : null}
        </td>
        <td>
          <code title={d.peerId}>{short(d.peerId)}</code> <Copy text={d.peerId} />
        </td>
        <td>
          {when(d.addedAt)}
          {addedBy === undefined ? <div class="muted small">first device</div> : null}
        </td>
        <td>
          {d.self ? (
            'now'
          ) : d.lastSeen === undefined ? (
            <span class="muted">not yet</span>
          ) : (
            `${duration(now - d.lastSeen)} ago`
          )}
        </td>
        <td>
          {d.self || asking ? null : (
            <button type="button" class="small danger" onClick={() => setAsking(true)} data-testid="device-remove">
              Remove…
            </button>
          )}
        </td>
      </tr>
      {asking ? (
        <tr class="confirm-row">
          <td colSpan={5}>
            <div class="stack" data-testid="remove-confirm">
              <span>
                Remove <strong>{d.name}</strong> from this identity? Its signatures are refused from now on, it receives
                no more messages for this identity, and the data key is changed so it cannot read what comes next.
              </span>
              <label class="row">
                <input
                  type="checkbox"
                  name="lost"
                  checked={lost}
                  onChange={(e) => setLost((e.target as HTMLInputElement).checked)}
                />
                It was lost or stolen
              </label>
              <div class="row">
                <button type="button" class="danger-fill" disabled={remove.busy} onClick={() => void remove.run()}>
                  {remove.busy ? 'Removing…' : `Remove ${d.name}`}
                </button>
                <button type="button" class="small" disabled={remove.busy} onClick={() => setAsking(false)}>
                  Keep it
                </button>
              </div>
              <ErrorNote error={remove.error} />
            </div>
          </td>
        </tr>
      ) : null}
    </>
  )
}
