/** `lateral doctor`: why this node is (not) reachable from the internet, and what to do about it. */
import type { Command } from 'commander'
import type { DoctorReply } from '../../daemon/doctor-schema.ts'
import { ApiClient } from '../client.ts'
import { emit, examples, globals } from '../output.ts'

const NAT: Record<DoctorReply['nat']['kind'], string> = {
  none: 'no NAT (this host has a public address)',
  home: 'home NAT (keeps ports: endpoint-independent mapping)',
  hard: 'hard NAT (new port per connection: endpoint-dependent mapping)',
  carrier: 'carrier-grade NAT (a second NAT beyond the router)',
  unknown: 'unknown (no peer has reported our address yet)',
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('diagnose reachability: NAT type, observed addresses, AutoNAT verdicts, UPnP, relays, and advice')
    .addHelpText('after', examples('lateral doctor', 'lateral doctor --json | jq .nat.kind'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const d = await (await ApiClient.forHome(g.home)).get<DoctorReply>('/v1/doctor')
      emit(g, d, () => render(d))
    })
}

function render(d: DoctorReply): string {
  const lines = [`Reachability: ${d.reachability}`, ...d.reasons.map((r) => `  - ${r}`)]
  lines.push(`NAT:          ${NAT[d.nat.kind]}`, ...d.nat.reasons.map((r) => `  - ${r}`))
  lines.push('Addresses:')
  for (const a of d.addresses)
    lines.push(`  ${a.verified ? 'confirmed ' : 'unconfirmed'} ${a.source.padEnd(8)} ${a.address}`)
  if (d.observed.length > 0) {
    lines.push('Seen by peers as:')
    for (const o of d.observed) lines.push(`  ${o.address}  (local port ${o.localPort ?? '?'}, by ${o.by})`)
  }
  lines.push(
    `UPnP:         ${
      !d.upnp.enabled
        ? 'off'
        : d.upnp.gateway === undefined
          ? (d.upnp.error ?? 'no gateway')
          : `gateway ${d.upnp.gateway}, its external address ${d.upnp.externalAddress ?? '?'}${d.upnp.mappings.length > 0 ? `, mapped ${d.upnp.mappings.join(', ')}` : ', no mapping'}`
    }`,
  )
  lines.push(`Relays:       ${d.relays.length === 0 ? 'no reservation' : d.relays.map((r) => r.peerId).join(', ')}`)
  lines.push(`Relay server: ${d.relayServer.enabled ? `on, ${d.relayServer.reservations} reservation(s) held` : 'off'}`)
  lines.push(
    `Hole punch:   ${d.punch.enabled ? `on, ${d.punch.succeeded} of ${d.punch.attempted} punches succeeded${d.punch.lastError === undefined ? '' : ` (last failure: ${d.punch.lastError})`}` : 'off'}`,
  )
  if (d.advice.length > 0) lines.push('Advice:', ...d.advice.map((a) => `  - ${a}`))
  return lines.join('\n')
}
