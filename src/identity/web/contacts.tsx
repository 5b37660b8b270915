/**
 * Contacts: names this node gives to other people's identities. They are local (petnames): no one
 * else sees them, and there is no global list to register in. Messages and the inbox use them.
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { Card, Copy, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { short } from '../../../web/src/format.ts'
import { useLoad } from '../../../web/src/hooks.ts'
import type { ContactBody, ContactProfile, ContactsReply, ContactView } from '../api/schemas.ts'

export function Contacts() {
  const contacts = useLoad(() => api.get<ContactsReply>('/v1/contacts'), { refreshOn: ['contact:update'] })
  const [name, setName] = useState('')
  const [identity, setIdentity] = useState('')
  const add = useAction(async () => {
    const body: ContactBody = { name: name.trim(), identity: identity.trim() }
    await api.post<ContactView>('/v1/contacts', body)
    setName('')
    setIdentity('')
    contacts.reload()
  })
  const list = contacts.data?.contacts ?? []
  return (
    <Card title={`Contacts (${list.length})`}>
      <ErrorNote error={contacts.error} />
      <ul class="contacts" data-testid="contacts">
        {contacts.data !== undefined && list.length === 0 ? (
          <li class="muted">No contacts yet. Ask a person for their identity ID and give it a name.</li>
        ) : null}
        {list.map((c) => (
          <ContactRow key={c.name} contact={c} onRemoved={contacts.reload} />
        ))}
      </ul>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault()
          if (name.trim() !== '' && identity.trim() !== '') void add.run()
        }}
      >
        <div class="row">
          <input
            name="contact-name"
            placeholder="Name, e.g. bob"
            maxLength={64}
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
          <input
            name="contact-identity"
            placeholder="Their identity ID (bafyrei…)"
            value={identity}
            onInput={(e) => setIdentity((e.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={add.busy} data-testid="contact-add">
            Add contact
          </button>
        </div>
        <ErrorNote error={add.error} />
      </form>
      <p class="muted small">Names are yours alone: nobody else sees them.</p>
    </Card>
  )
}

function ContactRow({ contact: c, onRemoved }: { contact: ContactView; onRemoved: () => void }) {
  const remove = useAction(async () => {
    await api.delete<ContactView>(`/v1/contacts/${encodeURIComponent(c.name)}`)
    onRemoved()
  })
  return (
    <li data-contact={c.name}>
      <div class="row spread">
        <span>
          <strong>{c.name}</strong> <code title={c.identity}>{short(c.identity, 10)}</code> <Copy text={c.identity} />
          <br />
          <ContactProfileLine profile={c.profile} />
        </span>
        <button type="button" class="small danger" disabled={remove.busy} onClick={() => void remove.run()}>
          Remove
        </button>
      </div>
      <ErrorNote error={remove.error} />
    </li>
  )
}

/** What this node knows of the person from their signed log: name, devices, mailboxes. */
function ContactProfileLine({ profile: p }: { profile: ContactProfile | undefined }) {
  if (p === undefined) {
    return (
      <span class="muted small" data-profile="unknown">
        Their log has not reached this node yet (it comes from one of their devices when they are online).
      </span>
    )
  }
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`
  return (
    <span class="muted small" data-profile="known">
      {p.name === undefined ? '' : `“${p.name}” · `}
      {count(p.devices.length, 'device', 'devices')} ·{' '}
      {p.mailboxes.length === 0 ? (
        'no mailbox: messages wait in your outbox while they are away'
      ) : (
        <span data-mailboxes={p.mailboxes.join(' ')} title={p.mailboxes.join('\n')}>
          {count(p.mailboxes.length, 'mailbox', 'mailboxes')}: {p.mailboxes.map((m) => short(m, 8)).join(', ')}
        </span>
      )}
    </span>
  )
}
