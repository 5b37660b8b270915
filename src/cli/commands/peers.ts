import type { Command } from 'commander'
import { InvalidInputError } from '../../core/errors.ts'
import type {
  ConnectBody,
  DisconnectBody,
  DisconnectReply,
  PeerConnectionView,
  PeersReply,
  PingBody,
  PingReply,
} from '../../daemon/schemas.ts'
import { ApiClient } from '../client.ts'
import { emit, examples, formatDuration, formatMs, globals, table } from '../output.ts'

export function registerPeers(program: Command): void {
  program
    .command('peers')
    .description('list connected peers: ID, address, latency, protocols, direction')
    .option('-v, --verbose', 'show every protocol instead of a count')
    .addHelpText('after', examples('lateral peers', 'lateral peers --json | jq -r ".peers[].peerId"'))
    .action(async (opts: { verbose?: boolean }, cmd: Command) => {
      const g = globals(cmd)
      const { peers } = await (await ApiClient.forHome(g.home)).get<PeersReply>('/v1/peers')
      emit(g, { peers }, () => {
        if (peers.length === 0) return 'No connected peers.'
        const rows = peers.map((p) => [
          p.peerId,
          p.addresses[0] ?? '',
          p.latencyMs === undefined ? '-' : formatMs(p.latencyMs),
          p.direction,
          opts.verbose === true ? p.protocols.join(',') : `${p.protocols.length}`,
        ])
        return table(['PEER', 'ADDRESS', 'LATENCY', 'DIRECTION', 'PROTOCOLS'], rows)
      })
    })

  program
    .command('connect')
    .description('dial a peer by multiaddr (ending in /p2p/PEER_ID) or by a known peer ID')
    .argument('<address>', 'multiaddr such as /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW..., or a peer ID')
    .addHelpText('after', examples('lateral connect /ip4/192.168.1.20/tcp/4001/p2p/12D3KooWAbc...'))
    .action(async (address: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const conn = await (await ApiClient.forHome(g.home)).post<PeerConnectionView>('/v1/peers/connect', {
        address,
      } satisfies ConnectBody)
      emit(
        g,
        conn,
        () =>
          `Connected to ${conn.peerId} via ${conn.addresses[0] ?? address} (${conn.encryption ?? '?'}, ${conn.muxer ?? '?'})`,
      )
    })

  program
    .command('disconnect')
    .description(
      'hang up on a peer: it is told goodbye, then refused both ways for connections.hangUpHoldMs (10 min, until the daemon restarts) unless you connect to it by peer ID',
    )
    .argument('<peer>', 'peer ID, as `lateral peers` lists it')
    .addHelpText(
      'after',
      examples('lateral disconnect 12D3KooWAbc...', 'lateral disconnect --json 12D3KooWAbc... | jq .connections'),
    )
    .action(async (peer: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const reply = await (await ApiClient.forHome(g.home)).post<DisconnectReply>('/v1/peers/disconnect', {
        peer,
      } satisfies DisconnectBody)
      emit(g, reply, () => {
        const done =
          reply.connections === 0
            ? `Not connected to ${reply.peerId}`
            : `Disconnected from ${reply.peerId} (${reply.connections} connection${reply.connections === 1 ? '' : 's'} closed)`
        return reply.refusedUntil === undefined
          ? `${done}.`
          : `${done}; refused for ${formatDuration(reply.refusedUntil - Date.now())} unless you connect to it by peer ID.`
      })
    })

  program
    .command('ping')
    .description('measure round-trip times to a peer')
    .argument('<peer>', 'peer ID or multiaddr')
    .option('-c, --count <n>', 'number of pings', '3')
    .addHelpText('after', examples('lateral ping 12D3KooWAbc...', 'lateral ping -c 10 --json 12D3KooWAbc...'))
    .action(async (peer: string, opts: { count: string }, cmd: Command) => {
      const g = globals(cmd)
      const count = Number(opts.count)
      if (!Number.isInteger(count) || count < 1 || count > 100)
        throw new InvalidInputError('--count must be an integer from 1 to 100')
      const client = await ApiClient.forHome(g.home)
      const rtts: number[] = []
      for (let i = 0; i < count; i++) {
        const { rttsMs } = await client.post<PingReply>('/v1/ping', { peer, count: 1 } satisfies PingBody)
        const rtt = rttsMs[0] as number
        rtts.push(rtt)
        if (!g.json) process.stdout.write(`pong from ${peer}: seq=${i + 1} time=${formatMs(rtt)}\n`)
      }
      const min = Math.min(...rtts)
      const max = Math.max(...rtts)
      const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length
      emit(
        g,
        { peer, rttsMs: rtts, minMs: min, avgMs: avg, maxMs: max },
        () => `${count} pings: min ${formatMs(min)}, avg ${formatMs(avg)}, max ${formatMs(max)}`,
      )
    })
}
