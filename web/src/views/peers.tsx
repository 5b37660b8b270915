/** Peers: who this node is connected to, how well, and a map of those links. */
import { useState } from 'preact/hooks'
import type {
  ConnectBody,
  DisconnectBody,
  DisconnectReply,
  PeerConnectionView as PeerConnection,
  PeersReply,
  PingBody,
  PingReply,
} from '../../../src/daemon/schemas.ts'
import type { IdentityReply } from '../../../src/identity/api/schemas.ts'
import { ReputationCell, useReputations } from '../../../src/ledger/web/reputation-cell.tsx'
import { api } from '../api.ts'
import { Card, Copy, ErrorNote, useAction } from '../components.tsx'
import { bytes, duration, short } from '../format.ts'
import { useLoad, useTick } from '../hooks.ts'

export function PeersView({ self }: { self: string | undefined }) {
  const peers = useLoad(() => api.get<PeersReply>('/v1/peers'), {
    everyMs: 3000,
    refreshOn: ['peer:connect', 'peer:disconnect', 'peer:identify'],
  })
  // Peers that are devices of this node's own identity are named (the person's other devices).
  const identity = useLoad(() => api.get<IdentityReply>('/v1/identity'), { refreshOn: ['identity:change'] })
  const deviceName = (peerId: string) => identity.data?.devices.find((d) => d.peerId === peerId)?.name
  const reputations = useReputations()
  const [address, setAddress] = useState('')
  const [pings, setPings] = useState<Record<string, number[] | string>>({})
  const connect = useAction(async (target: string) => {
    await api.post<PeerConnection>('/v1/peers/connect', { address: target } satisfies ConnectBody)
    setAddress('')
    peers.reload()
  })
  // Hanging up tells the peer goodbye, then refuses it both ways for connections.hangUpHoldMs, unless connected to again.
  const disconnect = useAction(async (peer: string) => {
    await api.post<DisconnectReply>('/v1/peers/disconnect', { peer } satisfies DisconnectBody)
    peers.reload()
  })
  const ping = async (peer: string) => {
    setPings((p) => ({ ...p, [peer]: 'pinging…' }))
    try {
      const r = await api.post<PingReply>('/v1/ping', { peer, count: 3 } satisfies PingBody)
      setPings((p) => ({ ...p, [peer]: r.rttsMs }))
    } catch (err) {
      setPings((p) => ({ ...p, [peer]: (err as Error).message }))
    }
    peers.reload()
  }
  const now = useTick(5000)
  const list = [...(peers.data?.peers ?? [])].sort((a, b) => a.openedAt - b.openedAt)
  return (
    <div class="grid" data-view="peers">
      <ErrorNote error={peers.error} />
      <Card title={`Connected peers (${list.length})`} wide>
        <ErrorNote error={disconnect.error} />
        {list.length === 0 ? (
          <p class="muted">
            No peers yet. Nodes on the same LAN find each other by mDNS; or connect to an address above.
          </p>
        ) : (
          <div class="scroll">
            <table class="peers" data-testid="peers-table">
              <thead>
                <tr>
                  <th>Peer</th>
                  <th>Address</th>
                  <th>Latency</th>
                  <th>Direction</th>
                  <th>Protocols</th>
                  <th class="num">In</th>
                  <th class="num">Out</th>
                  <th>For</th>
                  <th>Reputation</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((p) => {
                  const pinged = pings[p.peerId]
                  return (
                    <tr key={p.peerId} data-peer={p.peerId}>
                      <td>
                        <code title={p.peerId}>{short(p.peerId)}</code> <Copy text={p.peerId} />
                        {deviceName(p.peerId) === undefined ? null : (
                          <div class="small" data-testid="my-device">
                            <span class="badge done">my device</span> {deviceName(p.peerId)}
                          </div>
                        )}
                        {p.agent === undefined ? null : <div class="muted small">{p.agent}</div>}
                      </td>
                      <td>
                        {p.addresses.map((a) => (
                          <div key={a}>
                            <code class="small" title={a}>
                              {a.replace(/\/p2p\/[^/]+$/, '')}
                            </code>
                          </div>
                        ))}
                      </td>
                      <td>
                        {Array.isArray(pinged)
                          ? pinged.map((r) => `${Math.round(r)} ms`).join(', ')
                          : p.latencyMs === undefined
                            ? '–'
                            : `${Math.round(p.latencyMs)} ms`}
                        {typeof pinged === 'string' ? <div class="muted small">{pinged}</div> : null}
                      </td>
                      <td>
                        {p.direction}{' '}
                        <span class={`badge ${p.kind === 'direct' ? 'public' : 'relayed'}`} data-testid="peer-kind">
                          {p.kind}
                        </span>
                      </td>
                      <td>
                        <details>
                          <summary>{p.protocols.length}</summary>
                          <ul class="small">
                            {p.protocols.map((x) => (
                              <li key={x}>{x}</li>
                            ))}
                          </ul>
                        </details>
                      </td>
                      <td class="num">{bytes(p.bytesIn)}</td>
                      <td class="num">{bytes(p.bytesOut)}</td>
                      <td>{duration(now - p.openedAt)}</td>
                      <td>
                        <ReputationCell peer={p.peerId} reputation={reputations.get(p.peerId)} />
                      </td>
                      <td>
                        <button type="button" class="small" onClick={() => void ping(p.peerId)}>
                          Ping
                        </button>{' '}
                        <button
                          type="button"
                          class="small"
                          data-testid="disconnect"
                          title="Hang up: the peer is told goodbye, then refused both ways for 10 minutes unless you connect to it again"
                          disabled={disconnect.busy}
                          onClick={() => void disconnect.run(p.peerId)}
                        >
                          Disconnect
                        </button>
                      </td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Card title="Connect">
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault()
            if (address.trim() !== '') void connect.run(address.trim())
          }}
        >
          <input
            name="address"
            placeholder="/ip4/192.168.1.20/tcp/4001/p2p/12D3KooW… or a peer ID"
            value={address}
            onInput={(e) => setAddress((e.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={connect.busy}>
            {connect.busy ? 'Connecting…' : 'Connect'}
          </button>
        </form>
        <ErrorNote error={connect.error} />
      </Card>
      <Card title="Links">
        <PeerGraph self={self} peers={list} />
        <p class="muted small">
          This node in the middle, each peer it is connected to around it; a line's width grows with the bytes
          exchanged. A node only knows its own links: other peers' connections are theirs to tell.
        </p>
      </Card>
    </div>
  )
}

function PeerGraph({ self, peers }: { self: string | undefined; peers: PeerConnection[] }) {
  const size = 360
  const c = size / 2
  const radius = size / 2 - 50
  const most = Math.max(1, ...peers.map((p) => (p.bytesIn ?? 0) + (p.bytesOut ?? 0)))
  return (
    <svg
      class="graph"
      viewBox={`0 0 ${size} ${size}`}
      role="img"
      aria-label="Connections of this node"
      data-testid="peer-graph"
    >
      {peers.map((p, i) => {
        const a = (2 * Math.PI * i) / Math.max(peers.length, 1) - Math.PI / 2
        const x = c + radius * Math.cos(a)
        const y = c + radius * Math.sin(a)
        const w = 1 + 5 * Math.sqrt(((p.bytesIn ?? 0) + (p.bytesOut ?? 0)) / most)
        return (
          <g key={p.peerId}>
            <line x1={c} y1={c} x2={x} y2={y} class={`edge ${p.direction}`} stroke-width={w} />
            <circle cx={x} cy={y} r={14} class="peer-node">
              <title>{`${p.peerId}\n${p.direction}, ${p.latencyMs === undefined ? 'latency unknown' : `${Math.round(p.latencyMs)} ms`}`}</title>
            </circle>
            <text x={x} y={y + 28} class="label">
              {p.peerId.slice(-6)}
            </text>
          </g>
        )
      })}
      <circle cx={c} cy={c} r={20} class="self-node" />
      <text x={c} y={c + 4} class="label self">
        {self === undefined ? 'me' : self.slice(-6)}
      </text>
    </svg>
  )
}
