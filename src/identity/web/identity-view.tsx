/**
 * Identity: who this node speaks for. Its identity ID and display name, the devices of that
 * person (add one with a short code compared on both screens, remove one), and contacts.
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { Card, Copy, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { short } from '../../../web/src/format.ts'
import { useLoad } from '../../../web/src/hooks.ts'
import type { ServiceView } from '../../../web/src/service-view.ts'
import type { IdentityReply, NameBody } from '../api/schemas.ts'
import { Contacts } from './contacts.tsx'
import { Devices } from './devices.tsx'
import { LinkDevice } from './link-device.tsx'
import { Guardians, Recover, RecoveryBanner } from './recovery.tsx'

export function IdentityView() {
  // Last seen moves when devices connect; the log when any device of the identity writes to it.
  const identity = useLoad(() => api.get<IdentityReply>('/v1/identity'), {
    everyMs: 10_000,
    refreshOn: ['identity:change', 'peer:connect', 'peer:disconnect', 'recovery:started'],
  })
  const i = identity.data
  return (
    <div class="grid" data-view="identity">
      <ErrorNote error={identity.error} />
      {i === undefined ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          <Who identity={i} onChange={identity.reload} />
          <LinkDevice identity={i} />
          <Devices identity={i} onChange={identity.reload} />
          <Contacts />
          <Guardians identity={i} onChange={identity.reload} />
          <Recover />
        </>
      )}
    </div>
  )
}

function Who({ identity: i, onChange }: { identity: IdentityReply; onChange: () => void }) {
  const [editing, setEditing] = useState(false)
  const [name, setName] = useState('')
  const save = useAction(async () => {
    await api.post<IdentityReply>('/v1/identity/name', { name: name.trim() } satisfies NameBody)
    setEditing(false)
    onChange()
  })
  return (
    <Card title="Identity">
      <div class="label muted small">Identity ID (give it to people who want to add you as a contact)</div>
      <div class="row">
        <code class="peer-id" data-testid="identity-id">
          {i.id}
        </code>
        <Copy text={i.id} />
      </div>
      <dl class="facts">
        <dt>Display name</dt>
        <dd>
          {editing ? (
            <form
              class="row"
              onSubmit={(e) => {
                e.preventDefault()
                if (name.trim() !== '') void save.run()
              }}
            >
              <input
                name="display-name"
                maxLength={64}
                value={name}
                onInput={(e) => setName((e.target as HTMLInputElement).value)}
              />
              <button type="submit" disabled={save.busy}>
                Save
              </button>
              <button type="button" class="small" onClick={() => setEditing(false)}>
                Cancel
              </button>
            </form>
          ) : (
            <span class="row">
              <span data-testid="display-name">{i.name ?? <span class="muted">none</span>}</span>
              <button
                type="button"
                class="small"
                onClick={() => {
                  setName(i.name ?? '')
                  setEditing(true)
                  save.clear()
                }}
              >
                Edit
              </button>
            </span>
          )}
          <ErrorNote error={save.error} />
        </dd>
        <dt>Devices</dt>
        <dd data-testid="device-count">{i.devices.length}</dd>
        <dt>Log</dt>
        <dd>
          {i.entries} signed entries, head{i.heads.length === 1 ? '' : 's'}{' '}
          {i.heads.map((h) => (
            <code key={h} title={h}>
              {short(h, 8)}{' '}
            </code>
          ))}
        </dd>
        <dt>Data key</dt>
        <dd>
          epoch {i.dataKeyEpoch} <span class="muted small">(sealed to each device; a new key after every removal)</span>
        </dd>
      </dl>
      <p class="muted small">Others see the display name; it is a signed entry of the identity's log.</p>
    </Card>
  )
}

/** The dashboard's view of the identity service. */
export const identityView: ServiceView = {
  id: 'identity',
  title: 'Identity',
  View: IdentityView,
  Banner: RecoveryBanner,
}
