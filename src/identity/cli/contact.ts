/** `lateral contact ...`: local names (petnames) for identities; nobody else sees them. */
import type { Command } from 'commander'
import { ApiClient } from '../../cli/client.ts'
import { emit, examples, globals, table } from '../../cli/output.ts'
import type { ContactsReply, ContactView } from '../api/schemas.ts'

export function registerContact(program: Command): void {
  const contact = program
    .command('contact')
    .description('local names for people (identities): use them wherever an identity ID is asked')
    .addHelpText(
      'after',
      examples('lateral contact add bob bafyrei...', 'lateral msg send bob "hi"', 'lateral contact list'),
    )

  contact
    .command('add')
    .description('name an identity')
    .argument('<name>', '1-64 letters, digits, spaces, ".", "_" or "-"')
    .argument('<identity>', 'the identity ID (lateral identity on their device shows it)')
    .addHelpText(
      'after',
      examples('lateral contact add bob bafyrei...', 'lateral contact add "Ada L" bafyrei... --json'),
    )
    .action(async (name: string, identity: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const c = await (await ApiClient.forHome(g.home)).post<ContactView>('/v1/contacts', { name, identity })
      emit(g, c, () => `${c.name} = ${c.identity}`)
    })

  contact
    .command('list')
    .description('every contact')
    .addHelpText('after', examples('lateral contact list', 'lateral contact list --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const { contacts } = await (await ApiClient.forHome(g.home)).get<ContactsReply>('/v1/contacts')
      emit(g, contacts, () =>
        contacts.length === 0
          ? 'No contacts.'
          : table(
              ['NAME', 'IDENTITY', 'DEVICES', 'MAILBOXES'],
              contacts.map((c) => [
                c.name,
                c.identity,
                c.profile === undefined ? '?' : `${c.profile.devices.length}`,
                c.profile === undefined ? '?' : `${c.profile.mailboxes.length}`,
              ]),
            ) + (contacts.some((c) => c.profile === undefined) ? `\n? ${NOT_FETCHED}` : ''),
      )
    })

  contact
    .command('show')
    .description('one contact, with what this node knows from their signed log: devices, mailboxes')
    .argument('<name>', 'contact name')
    .addHelpText('after', examples('lateral contact show bob', 'lateral contact show bob --json'))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const c = await (await ApiClient.forHome(g.home)).get<ContactView>(`/v1/contacts/${encodeURIComponent(name)}`)
      emit(g, c, () => describeContact(c))
    })

  contact
    .command('remove')
    .description('forget a contact name')
    .argument('<name>', 'contact name')
    .addHelpText('after', examples('lateral contact remove bob'))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const c = await (await ApiClient.forHome(g.home)).delete<ContactView>(`/v1/contacts/${encodeURIComponent(name)}`)
      emit(g, c, () => `Forgot ${c.name}`)
    })
}

const NOT_FETCHED =
  'their identity log has not reached this node yet: it comes from one of their devices when they are online'

function describeContact(c: ContactView): string {
  const lines = [`${c.name} = ${c.identity}`, `added ${new Date(c.addedAt).toISOString()}`]
  if (c.profile === undefined) return [...lines, NOT_FETCHED].join('\n')
  const p = c.profile
  if (p.name !== undefined) lines.push(`display name: ${p.name}`)
  lines.push(`devices (${p.devices.length}):`, ...p.devices.map((d) => `  ${d}`))
  lines.push(
    p.mailboxes.length === 0
      ? 'mailboxes: none (messages wait in your outbox while they are away)'
      : `mailboxes (${p.mailboxes.length}):`,
    ...p.mailboxes.map((m) => `  ${m}`),
  )
  lines.push(`log entries held: ${p.entries}`)
  return lines.join('\n')
}
