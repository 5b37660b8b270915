/** `lateral delegate ...`: rights given to other peers (grant, list, show, revoke). */
import type { Command } from 'commander'
import { ApiClient } from '../../cli/client.ts'
import { emit, examples, globals, table } from '../../cli/output.ts'
import { InvalidInputError } from '../../core/errors.ts'
import { formatBytes, parseBytes, parseWhen } from '../../core/units.ts'
import type { DelegationView, GrantBody, GrantReply } from '../api/schemas.ts'

const when = (ms: number | undefined) =>
  ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16)
const short = (id: string) => (id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id)

function describe(views: DelegationView[]): string {
  if (views.length === 0) return 'No delegations.'
  return table(
    ['CID', 'DIRECTION', 'PEER', 'COMMAND', 'USED/QUOTA', 'UNTIL', 'STATE'],
    views.map((v) => [
      v.cid,
      v.direction,
      short(v.direction === 'given' ? v.audience : v.issuer),
      v.command,
      `${v.used === undefined ? '' : `${formatBytes(v.used)} of `}${v.quota === undefined ? '-' : formatBytes(v.quota)}`,
      when(v.expiresAt),
      `${v.state}${v.direction === 'given' && v.delivered === false ? ' (not delivered yet)' : ''}`,
    ]),
  )
}

function detail(v: DelegationView): string {
  return [
    `Delegation: ${v.cid}`,
    `Direction:  ${v.direction}`,
    `Issuer:     ${v.issuer}`,
    `Audience:   ${v.audience}`,
    `Subject:    ${v.subject}`,
    `Command:    ${v.command}`,
    `Quota:      ${v.quota === undefined ? '-' : formatBytes(v.quota)}`,
    `Valid:      ${when(v.notBefore ?? v.at)} .. ${when(v.expiresAt)}`,
    `State:      ${v.state}${v.reason === undefined ? '' : ` (${v.reason})`}`,
    `Chain:      ${v.chain.join(' > ')}`,
  ].join('\n')
}

export function registerDelegate(program: Command): void {
  const delegate = program
    .command('delegate')
    .description('give other peers narrow, expiring, revocable rights (UCAN delegations), and see those given to you')
    .addHelpText(
      'after',
      examples(
        'lateral delegate grant 12D3KooW... --can store/put --quota 10GiB --until 2027-06-01',
        'lateral delegate grant bob --can msg/deposit --until 30d',
        'lateral delegate list --given',
        'lateral delegate revoke bafyrei...',
      ),
    )

  delegate
    .command('grant')
    .description('grant a right to a peer, or to each device of a person (contact or identity ID)')
    .argument('<peer-or-contact>', 'a peer ID, a contact name or an identity ID')
    .requiredOption(
      '--can <command>',
      'what they may do: store/put (keep content for you), msg/deposit (hold your mail)',
    )
    .requiredOption('--until <when>', 'when it ends: a date (2027-06-01) or a duration from now (30d, 12h)')
    .option('--quota <bytes>', 'at most this much (10GiB, 500M)')
    .option('--not-before <when>', 'when it starts (default now)')
    .option('--subject <identity>', 'pass on a right you hold from this identity (ID or contact), within it')
    .addHelpText(
      'after',
      examples(
        'lateral delegate grant 12D3KooW... --can store/put --quota 10GiB --until 2027-06-01',
        'lateral delegate grant bob --can msg/deposit --quota 50M --until 30d --json',
      ),
    )
    .action(
      async (
        to: string,
        opts: { can: string; until: string; quota?: string; notBefore?: string; subject?: string },
        cmd: Command,
      ) => {
        const g = globals(cmd)
        const body: GrantBody = { to, can: opts.can, until: parseWhen(opts.until) }
        if (Number.isNaN(body.until)) throw new InvalidInputError(`--until ${opts.until}: a date or a duration (30d)`)
        if (opts.quota !== undefined) {
          body.quota = parseBytes(opts.quota)
          if (Number.isNaN(body.quota)) throw new InvalidInputError(`--quota ${opts.quota}: a size (10GiB, 500M)`)
        }
        if (opts.notBefore !== undefined) {
          body.notBefore = parseWhen(opts.notBefore)
          if (Number.isNaN(body.notBefore))
            throw new InvalidInputError(`--not-before ${opts.notBefore}: a date or a duration`)
        }
        if (opts.subject !== undefined) body.subject = opts.subject
        const reply = await (await ApiClient.forHome(g.home)).post<GrantReply>('/v1/delegations', body)
        emit(g, reply.delegations, () => describe(reply.delegations))
      },
    )

  delegate
    .command('list')
    .description('delegations given and received, with their state now (active, pending, expired, revoked, invalid)')
    .option('--given', 'only those this node gave')
    .option('--received', 'only those given to this node')
    .addHelpText('after', examples('lateral delegate list', 'lateral delegate list --received --json'))
    .action(async (opts: { given?: boolean; received?: boolean }, cmd: Command) => {
      const g = globals(cmd)
      const direction = opts.given === true ? '?direction=given' : opts.received === true ? '?direction=received' : ''
      const { delegations } = await (await ApiClient.forHome(g.home)).get<GrantReply>(`/v1/delegations${direction}`)
      emit(g, delegations, () => describe(delegations))
    })

  delegate
    .command('show')
    .description('one delegation: who, what, until when, its chain and its state')
    .argument('<cid>', 'the delegation’s CID')
    .addHelpText('after', examples('lateral delegate show bafyrei...'))
    .action(async (cid: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const v = await (await ApiClient.forHome(g.home)).get<DelegationView>(
        `/v1/delegations/${encodeURIComponent(cid)}`,
      )
      emit(g, v, () => detail(v))
    })

  delegate
    .command('revoke')
    .description('revoke a delegation you gave: its holder and every peer that sees the revocation refuse it')
    .argument('<cid>', 'the delegation’s CID (lateral delegate list --given)')
    .addHelpText('after', examples('lateral delegate revoke bafyrei...', 'lateral delegate revoke bafyrei... --json'))
    .action(async (cid: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const v = await (await ApiClient.forHome(g.home)).post<DelegationView>(
        `/v1/delegations/${encodeURIComponent(cid)}/revoke`,
        {},
      )
      emit(g, v, () => `Revoked ${v.cid} (${v.command} for ${v.audience}).`)
    })
}
