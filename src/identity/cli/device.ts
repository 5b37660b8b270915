/**
 * `lateral identity`, `lateral device ...`: who this node's person is and the devices that
 * speak for them. Linking asks for a confirmation on both devices: a person compares the short
 * strings and types `yes`; a script types the string it read from the other side's output
 * (with --json, each side prints `{"shortString": ...}` as a line as soon as it is known).
 */
import type { Command } from 'commander'
import { renderUnicodeCompact } from 'uqr'
import { ApiClient } from '../../cli/client.ts'
import { liveEvents, untilInterrupted } from '../../cli/events.ts'
import { emit, examples, type Globals, globals, table, warn } from '../../cli/output.ts'
import { AbortedError } from '../../core/errors.ts'
import type { ContactsReply, IdentityReply, PairingView } from '../api/schemas.ts'
import { readLine } from './prompt.ts'

const when = (ms: number | undefined) =>
  ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19)

function describeIdentity(i: IdentityReply): string {
  return [
    `Identity: ${i.id}`,
    `Name:     ${i.name ?? '(none)'}`,
    `Log:      ${i.entries} entries, head ${i.heads.join(', ')}`,
    '',
    table(
      ['DEVICE', 'PEER ID', 'ADDED', 'LAST SEEN'],
      i.devices.map((d) => [
        `${d.name}${d.self ? ' (this)' : ''}`,
        d.peerId,
        when(d.addedAt),
        d.self ? 'now' : when(d.lastSeen),
      ]),
    ),
    ...(i.removed.length === 0
      ? []
      : [
          '',
          table(
            ['REMOVED', 'PEER ID', 'REMOVED AT', 'WHY'],
            i.removed.map((r) => [
              r.name,
              r.peerId,
              when(r.removedAt),
              [r.lost ? 'lost' : '', r.reason ?? ''].filter(Boolean).join(': ') || '-',
            ]),
          ),
        ]),
  ].join('\n')
}

/** Follow a pairing to its end: show the code and the short string, ask for the confirmation. */
async function follow(client: ApiClient, started: PairingView, g: Globals): Promise<PairingView> {
  const interrupted = untilInterrupted()
  const interactive = process.stdin.isTTY === true && !g.json
  let asked = false
  let view = started
  const show = (line: unknown, human: string) => {
    if (g.json) process.stdout.write(`${JSON.stringify(line)}\n`)
    else process.stderr.write(`${human}\n`)
  }
  if (started.code !== undefined && !g.json && process.stderr.isTTY === true) {
    // Scanned by the other device's camera, or the text typed or pasted.
    process.stderr.write(`${renderUnicodeCompact(started.code, { ecc: 'L' })}\n`)
  }
  if (started.code !== undefined) {
    show(
      { code: started.code, expiresAt: started.expiresAt },
      `Pairing code (valid until ${when(started.expiresAt)}):\n\n  ${started.code}\n\nOn a device of your identity run: lateral device add ${started.code}`,
    )
  }
  const onUpdate = async (p: PairingView) => {
    view = p
    if (p.state === 'compare' && !asked && p.shortString !== undefined) {
      asked = true
      show({ shortString: p.shortString }, `Both screens must show: ${p.shortString}`)
      const answer = await readLine(
        'Type the string the other device shows (or "yes" if they match): ',
        interactive,
        interrupted,
      ).catch(() => '')
      await client
        .post<PairingView>(`/v1/identity/pairings/${p.id}/confirm`, { shortString: answer.trim() })
        .catch(() => {})
    }
  }
  const ended = (p: PairingView) => p.state === 'done' || p.state === 'aborted' || p.state === 'expired'
  // Listen before reading the state now, so no update falls between the two.
  const live = liveEvents(client, interrupted)
  await live.next() // the stream's hello: from here on no update is missed
  const current = await client.get<PairingView>(`/v1/identity/pairings/${started.id}`)
  await onUpdate(current)
  if (!ended(current)) {
    for (let next = await live.next(); next.done !== true; next = await live.next()) {
      const event = next.value
      if (event.event !== 'pairing:update') continue
      const p = event.data as PairingView
      if (p.id !== started.id) continue
      await onUpdate(p)
      if (ended(p)) break
    }
    await live.return(undefined)
  }
  if (interrupted.aborted) {
    // Cancel in the daemon before exiting: the code is refused from then on, and the other side aborts.
    await client.delete(`/v1/identity/pairings/${started.id}`).catch(() => {})
    throw new AbortedError('pairing cancelled')
  }
  return view
}

export function registerDevice(program: Command): void {
  const identity = program
    .command('identity')
    .description("this node's identity: ID, display name, devices and log head")
    .addHelpText('after', examples('lateral identity', 'lateral identity --json', 'lateral identity name "Ada"'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const i = await (await ApiClient.forHome(g.home)).get<IdentityReply>('/v1/identity')
      emit(g, i, () => describeIdentity(i))
    })
  identity
    .command('name')
    .description('set the display name others see (a signed entry of the identity log)')
    .argument('<name>', 'display name, 1-64 characters')
    .addHelpText('after', examples('lateral identity name "Ada"', 'lateral identity name "Ada Lovelace" --json'))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const i = await (await ApiClient.forHome(g.home)).post<IdentityReply>('/v1/identity/name', { name })
      emit(g, i, () => `Name set to ${i.name}`)
    })

  const device = program
    .command('device')
    .description('the devices of this identity: link a new one with a short code, list, remove')
    .addHelpText(
      'after',
      examples(
        'lateral device link --name laptop   # on the new device',
        'lateral device add CODE   # on a device of the identity',
        'lateral device remove laptop --lost',
      ),
    )

  device
    .command('link')
    .description('on a NEW device: print a one-time pairing code and wait for a device of the identity to use it')
    .option('--name <name>', "this device's name")
    .addHelpText(
      'after',
      `${examples('lateral device link --name laptop', 'lateral device link --json   # scripts: prints {"code"}, then {"shortString"}; reads the other side\'s string on stdin')}
Joining another identity replaces this device's own one-device identity.`,
    )
    .action(async (opts: { name?: string }, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      const [own, { contacts }] = await Promise.all([
        client.get<IdentityReply>('/v1/identity'),
        client.get<ContactsReply>('/v1/contacts'),
      ])
      if (own.devices.length > 1 || contacts.length > 0) {
        warn(
          `this device leaves its identity ${own.id} (${own.devices.length - 1} other device(s), ${contacts.length} contact(s) here) to join the one that adds it`,
        )
      }
      const started = await client.post<PairingView>(
        '/v1/identity/pairings',
        opts.name === undefined ? {} : { name: opts.name },
      )
      const end = await follow(client, started, g)
      finish(g, end)
    })

  device
    .command('add')
    .description('on a device OF the identity: pair with the new device that shows CODE')
    .argument('<code>', 'the code `lateral device link` printed on the new device')
    .addHelpText('after', examples('lateral device add lat1-...', 'lateral device add lat1-... --json'))
    .action(async (code: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      const started = await client.post<PairingView>('/v1/identity/pairings/join', { code })
      finish(g, await follow(client, started, g))
    })

  device
    .command('list')
    .description('the devices of this identity')
    .addHelpText('after', examples('lateral device list', 'lateral device list --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const i = await (await ApiClient.forHome(g.home)).get<IdentityReply>('/v1/identity')
      emit(g, i.devices, () => describeIdentity(i).split('\n').slice(4).join('\n'))
    })

  device
    .command('remove')
    .description('remove a device (name or peer ID): its signatures are refused from now on; the data key is rotated')
    .argument('<device>', 'device name or peer ID')
    .option('--lost', 'the device was lost or stolen')
    .addHelpText('after', examples('lateral device remove laptop', 'lateral device remove 12D3KooW... --lost'))
    .action(async (name: string, opts: { lost?: boolean }, cmd: Command) => {
      const g = globals(cmd)
      const i = await (await ApiClient.forHome(g.home)).post<IdentityReply>(
        `/v1/identity/devices/${encodeURIComponent(name)}/remove`,
        opts.lost === true ? { lost: true } : {},
      )
      emit(
        g,
        i,
        () => `Removed ${name}. The identity now has ${i.devices.length} device${i.devices.length === 1 ? '' : 's'}.`,
      )
    })
}

function finish(g: Globals, p: PairingView): void {
  if (p.state !== 'done') {
    const reason = p.error ?? p.state
    if (!g.json) warn(`pairing ${p.state}: ${reason}`)
    throw new AbortedError(`pairing ${p.state}: ${reason}`)
  }
  emit(g, p, () => `Linked: ${p.peer} is now a device of ${p.identity}`)
}
