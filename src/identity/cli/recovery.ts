/**
 * `lateral guardians ...` and `lateral recover ...`: recovery through guardians when every device
 * is lost. With --json, `recover start` and `recover approve` print the short string as a JSON
 * line and wait for it (or `yes`) on standard input, like device linking.
 */
import type { Command } from 'commander'
import { ApiClient } from '../../cli/client.ts'
import { liveEvents, untilInterrupted } from '../../cli/events.ts'
import { emit, examples, type Globals, globals, table, warn } from '../../cli/output.ts'
import { AbortedError, InvalidInputError } from '../../core/errors.ts'
import type {
  GuardiansBody,
  IdentityReply,
  RecoverApproveBody,
  RecoverStartBody,
  RecoveryReply,
  RecoverySessionReply,
} from '../api/schemas.ts'
import { readLine } from './prompt.ts'

const when = (ms: number | undefined) =>
  ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19)

/** `72h`, `3d`, `90m`, `30s` or plain ms. */
function parseDelay(text: string): number {
  const m = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(text.trim())
  if (m === null) throw new InvalidInputError(`--delay ${text}: a duration such as 72h, 3d or 30s`)
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86_400e3 }[(m[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h' | 'd']
  return Number(m[1]) * unit
}

function describeGuardians(i: IdentityReply): string {
  const lines: string[] = []
  const set = i.guardians.current
  if (set === undefined) lines.push('No guardians. Set them with: lateral guardians set alice bob carol --threshold 2')
  else {
    lines.push(
      `Guardians in force (${set.threshold} of ${set.guardians.length} approve a recovery; delay ${Math.round(set.delay / 1000)} s):`,
      table(
        ['IDENTITY', 'DEVICES'],
        set.guardians.map((g) => [g.identity, String(g.devices.length)]),
      ),
    )
  }
  const pending = i.guardians.pending
  if (pending !== undefined) {
    lines.push(
      `A change waits until ${when(pending.effectiveAt)}: ${pending.threshold} of ${pending.guardians.map((g) => g.identity).join(', ')}`,
    )
  }
  if (i.recovery?.state === 'pending') {
    lines.push(
      `A RECOVERY of this identity is pending (device ${i.recovery.device}, due ${when(i.recovery.dueAt)}). If it is not yours: lateral recover veto`,
    )
  }
  return lines.join('\n')
}

function show(g: Globals, line: unknown, human: string): void {
  if (g.json) process.stdout.write(`${JSON.stringify(line)}\n`)
  else process.stderr.write(`${human}\n`)
}

/** Follow a session until `done(view)`; prints what changes. */
async function follow(
  client: ApiClient,
  started: RecoverySessionReply,
  g: Globals,
  done: (s: RecoverySessionReply) => boolean,
): Promise<RecoverySessionReply> {
  const interrupted = untilInterrupted()
  const live = liveEvents(client, interrupted)
  await live.next()
  let view = await client.get<RecoverySessionReply>(`/v1/recovery/${started.id}`)
  let seen = view.approvals.length
  const progress = (s: RecoverySessionReply) => {
    if (s.approvals.length > seen) {
      seen = s.approvals.length
      show(
        g,
        { approvals: s.approvals, threshold: s.threshold },
        `Approved by ${s.approvals.length} of ${s.threshold ?? '?'}: ${s.approvals.join(', ')}`,
      )
    }
    if (s.state === 'pending' && s.dueAt !== undefined) {
      show(
        g,
        { state: 'pending', dueAt: s.dueAt },
        `Enough guardians approved. The recovery takes effect at ${when(s.dueAt)} unless a device of the identity vetoes it.`,
      )
    }
  }
  progress(view)
  if (!done(view)) {
    for (let next = await live.next(); next.done !== true; next = await live.next()) {
      const event = next.value
      if (event.event !== 'recovery:update') continue
      const s = event.data as RecoverySessionReply
      if (s.id !== started.id) continue
      const wasPending = view.state === 'pending'
      view = s
      if (!(wasPending && s.state === 'pending')) progress(s)
      if (done(s)) break
    }
  }
  await live.return(undefined)
  if (interrupted.aborted) throw new AbortedError('interrupted')
  return view
}

export function registerRecovery(program: Command): void {
  const guardians = program
    .command('guardians')
    .description('the people who can give you a new device if you lose every device (recovery)')
    .addHelpText(
      'after',
      examples('lateral guardians', 'lateral guardians set alice bob carol dave --threshold 3 --delay 72h'),
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const i = await (await ApiClient.forHome(g.home)).get<IdentityReply>('/v1/identity')
      emit(g, { guardians: i.guardians, recovery: i.recovery }, () => describeGuardians(i))
    })

  guardians
    .command('set')
    .description('set the guardians (contacts or identity IDs) and how many must approve a recovery')
    .argument('<guardians...>', 'contact names or identity IDs (1 to 8)')
    .requiredOption('--threshold <n>', 'approvals a recovery needs')
    .option(
      '--delay <duration>',
      'how long a recovery waits for a veto (default 72h; a change of guardians waits as long)',
    )
    .addHelpText(
      'after',
      examples(
        'lateral guardians set alice bob carol dave --threshold 3',
        'lateral guardians set alice bob --threshold 2 --delay 48h --json',
      ),
    )
    .action(async (names: string[], opts: { threshold: string; delay?: string }, cmd: Command) => {
      const g = globals(cmd)
      const body: GuardiansBody = { guardians: names, threshold: Number(opts.threshold) }
      if (!Number.isInteger(body.threshold)) throw new InvalidInputError('--threshold is a whole number')
      if (opts.delay !== undefined) body.delayMs = parseDelay(opts.delay)
      const i = await (await ApiClient.forHome(g.home)).post<IdentityReply>('/v1/identity/guardians', body)
      emit(g, { guardians: i.guardians }, () => describeGuardians(i))
    })

  const recover = program
    .command('recover')
    .description('get a new device into an identity whose every device is lost, with its guardians')
    .addHelpText(
      'after',
      examples(
        'lateral recover start bafyrei...      # on the fresh device',
        'lateral recover approve lat1-...      # on each guardian, after comparing the short string',
        'lateral recover status',
        'lateral recover veto                  # on a device of the identity, if the recovery is not yours',
      ),
    )

  recover
    .command('start')
    .description('on a FRESH device: ask the guardians of an identity; prints a code for them and a short string')
    .argument('<identity>', 'the identity ID (or a contact name)')
    .option('--name <name>', "this device's name")
    .addHelpText('after', examples('lateral recover start bafyrei...', 'lateral recover start bafyrei... --json'))
    .action(async (identity: string, opts: { name?: string }, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      const body: RecoverStartBody = { identity, ...(opts.name === undefined ? {} : { name: opts.name }) }
      const started = await client.post<RecoverySessionReply>('/v1/recovery', body)
      show(
        g,
        { code: started.code, shortString: started.shortString },
        `Give each guardian this code:\n\n  ${started.code}\n\nThey run: lateral recover approve CODE\nRead them this string to compare: ${started.shortString}`,
      )
      const interactive = process.stdin.isTTY === true && !g.json
      const typed = await readLine(
        'Type the string (or "yes") once you have read it to your guardians: ',
        interactive,
        untilInterrupted(),
      ).catch(() => '')
      if (typed.trim() === '')
        throw new AbortedError('no confirmation: recovery not followed (it goes on in the daemon)')
      const end = await follow(client, started, g, (s) => ['completed', 'vetoed', 'failed'].includes(s.state))
      if (end.state !== 'completed') {
        if (!g.json) warn(`recovery ${end.state}: ${end.error ?? ''}`)
        throw new AbortedError(`recovery ${end.state}${end.error === undefined ? '' : `: ${end.error}`}`)
      }
      emit(
        g,
        end,
        () =>
          `Recovered: this device is now the only device of ${end.identity}.${end.refusedShares?.length ? ` Refused shares: ${end.refusedShares.map((r) => `${r.from} (${r.reason})`).join(', ')}` : ''}`,
      )
    })

  recover
    .command('approve')
    .description('on a GUARDIAN: approve a recovery, after comparing the short string with the person')
    .argument('<code>', 'the code the recovering device shows')
    .addHelpText('after', examples('lateral recover approve lat1-...', 'lateral recover approve lat1-... --json'))
    .action(async (code: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      const body: RecoverApproveBody = { code }
      const asked = await client.post<RecoverySessionReply>('/v1/recovery/approvals', body)
      show(
        g,
        { identity: asked.identity, device: asked.device, shortString: asked.shortString },
        `Device ${asked.device} asks to recover identity ${asked.identity}.\nAsk the person (by phone, in person) to read you their string. Yours: ${asked.shortString}`,
      )
      const interactive = process.stdin.isTTY === true && !g.json
      const typed = await readLine(
        'Type the string the person reads (or "yes" if it matches): ',
        interactive,
        untilInterrupted(),
      ).catch(() => '')
      const end = await client.post<RecoverySessionReply>(`/v1/recovery/${asked.id}/confirm`, {
        shortString: typed.trim(),
      })
      if (end.state !== 'approved') {
        if (!g.json) warn(`not approved: ${end.error ?? end.state}`)
        throw new AbortedError(`not approved: ${end.error ?? end.state}`)
      }
      emit(g, end, () => `Approved the recovery of ${end.identity} by ${end.device}.`)
    })

  recover
    .command('status')
    .description('recovery sessions on this node, and any pending recovery of this identity')
    .addHelpText('after', examples('lateral recover status', 'lateral recover status --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const r = await (await ApiClient.forHome(g.home)).get<RecoveryReply>('/v1/recovery')
      emit(g, r, () => {
        const lines = r.sessions.map(
          (s) =>
            `${s.role} ${s.identity}: ${s.state}${s.approvals.length > 0 ? `, approved by ${s.approvals.length}${s.threshold === undefined ? '' : ` of ${s.threshold}`}` : ''}${s.dueAt === undefined ? '' : `, due ${when(s.dueAt)}`}${s.error === undefined ? '' : ` (${s.error})`}`,
        )
        if (r.recovery !== undefined) {
          lines.push(
            `This identity: a recovery by ${r.recovery.device} is ${r.recovery.state}, due ${when(r.recovery.dueAt)}`,
          )
        }
        return lines.length === 0 ? 'No recovery.' : lines.join('\n')
      })
    })

  recover
    .command('veto')
    .description('on a device of the identity: stop the pending recovery (final for that request)')
    .addHelpText('after', examples('lateral recover veto'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const i = await (await ApiClient.forHome(g.home)).post<IdentityReply>('/v1/identity/recovery/veto', {})
      emit(g, i.recovery, () => `Vetoed the recovery by ${i.recovery?.device}.`)
    })
}
