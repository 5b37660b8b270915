import type { Command } from 'commander'
import type { IdReply, StatusReply } from '../../daemon/schemas.ts'
import { ApiClient } from '../client.ts'
import { emit, examples, formatDuration, globals } from '../output.ts'

export function registerNodeInfo(program: Command): void {
  program
    .command('id')
    .description("show this node's peer ID, listen addresses and agent version")
    .addHelpText('after', examples('lateral id', 'lateral id --json | jq -r .addresses[0]'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const id = await (await ApiClient.forHome(g.home)).get<IdReply>('/v1/id')
      emit(g, id, () =>
        [
          `Peer ID:  ${id.peerId}`,
          `Agent:    ${id.agentVersion}`,
          'Addresses:',
          ...id.addresses.map((a) => `  ${a}`),
        ].join('\n'),
      )
    })

  program
    .command('status')
    .description('show uptime, connection count, DHT mode and routing-table size, and data dir')
    .addHelpText('after', examples('lateral status', 'lateral status --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const s = await (await ApiClient.forHome(g.home)).get<StatusReply>('/v1/status')
      emit(g, s, () =>
        [
          `Peer ID:      ${s.peerId}`,
          `Agent:        ${s.agentVersion}`,
          `Uptime:       ${formatDuration(s.uptimeMs)}`,
          `Connections:  ${s.connections}`,
          `Reachability: ${s.reachability}${s.nat === 'unknown' || s.nat === 'none' ? '' : ` (behind ${s.nat} NAT)`}`,
          ...s.reachabilityReasons.map((r) => `  - ${r}`),
          `DHT:          ${s.dht.mode} mode, ${s.dht.routingTableSize} peers in routing table (${s.dht.protocol})`,
          `Data dir:     ${s.dataDir ?? '(in memory)'}`,
        ].join('\n'),
      )
    })
}
