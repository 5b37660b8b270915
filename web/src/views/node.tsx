/** Node: who this node is, how to reach it, and what crosses its links over time. */

import { useEffect, useMemo, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import { encode } from 'uqr'
import 'uplot/dist/uPlot.min.css'
import type { BandwidthReply, StatusReply } from '../../../src/daemon/schemas.ts'
import { api } from '../api.ts'
import { Card, Copy, ErrorNote } from '../components.tsx'
import { bytes, clock, duration, rate } from '../format.ts'
import { useLoad, useTick } from '../hooks.ts'

type Status = StatusReply
type Bandwidth = BandwidthReply

const REACH: Record<Status['reachability'], string> = {
  public: 'Public: peers elsewhere dialled an address of this node back (AutoNAT), or it is announced',
  private: 'Private: no address confirmed from outside and no relay (peers on this network can dial in)',
  relayed: 'Relayed: no address confirmed from outside; reachable through a relay',
}

export function NodeView() {
  const status = useLoad(() => api.get<Status>('/v1/status'), {
    everyMs: 2000,
    refreshOn: ['peer:connect', 'peer:disconnect', 'addresses:change'],
  })
  const bandwidth = useLoad(() => api.get<Bandwidth>('/v1/bandwidth'), { everyMs: 1000 })
  const now = useTick(1000)
  const s = status.data
  return (
    <div class="grid" data-view="node">
      <ErrorNote error={status.error} />
      {s === undefined ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          <Card title="Identity">
            <div class="identity">
              <div>
                <div class="label">Peer ID</div>
                <div class="row">
                  <code class="peer-id" data-testid="peer-id">
                    {s.peerId}
                  </code>
                  <Copy text={s.peerId} />
                </div>
                <p class="muted">
                  {s.agentVersion} · data in {s.dataDir ?? 'memory'}
                </p>
              </div>
              <Qr text={s.peerId} />
            </div>
          </Card>
          <Card title="Reachability">
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <span class={`badge ${s.reachability}`} data-testid="reachability">
                  {s.reachability}
                </span>{' '}
                <span class="muted">{REACH[s.reachability]}</span>
                <ul class="muted" data-testid="reachability-reasons">
                  {s.reachabilityReasons.map((r) => (
                    <li key={r}>{r}</li>
                  ))}
                </ul>
              </dd>
              <dt>NAT</dt>
              <dd data-testid="nat">
                {s.nat} <span class="muted">(`lateral doctor` explains)</span>
              </dd>
              <dt>Uptime</dt>
              <dd>{duration(now - s.startedAt)}</dd>
              <dt>Connections</dt>
              <dd data-testid="connections">{s.connections}</dd>
              <dt>DHT</dt>
              <dd>
                {s.dht.mode} mode, {s.dht.routingTableSize} peers in the routing table
              </dd>
              <dt>Traffic</dt>
              <dd>
                {s.traffic === null
                  ? 'not counted (metrics are off)'
                  : `${bytes(s.traffic.bytesIn)} in · ${bytes(s.traffic.bytesOut)} out`}
              </dd>
            </dl>
          </Card>
          <Card title="Addresses">
            <ul class="addresses" data-testid="addresses">
              {s.addresses.map((a) => (
                <li key={a}>
                  <code>{withPeer(a, s.peerId)}</code> <Copy text={withPeer(a, s.peerId)} />
                </li>
              ))}
              {s.addresses.length === 0 ? <li class="muted">not listening</li> : null}
            </ul>
          </Card>
          <Card title="Bandwidth">
            <ErrorNote error={bandwidth.error} />
            <BandwidthChart samples={bandwidth.data?.samples ?? []} />
          </Card>
        </>
      )}
    </div>
  )
}

/** A QR code of the peer ID, drawn as SVG squares (no markup strings). */
function Qr({ text }: { text: string }) {
  const qr = useMemo(() => encode(text, { ecc: 'M', border: 2 }), [text])
  const cells: string[] = []
  qr.data.forEach((row, y) => {
    row.forEach((on, x) => {
      if (on) cells.push(`M${x} ${y}h1v1h-1z`)
    })
  })
  return (
    <svg class="qr" viewBox={`0 0 ${qr.size} ${qr.size}`} role="img" aria-label="QR code of the peer ID">
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={cells.join('')} fill="#111" shape-rendering="crispEdges" />
    </svg>
  )
}

function BandwidthChart({ samples }: { samples: Bandwidth['samples'] }) {
  const host = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | undefined>(undefined)
  useEffect(() => {
    if (host.current === null) return
    const width = () => Math.max(280, (host.current?.clientWidth ?? 600) - 8)
    plot.current = new uPlot(
      {
        width: width(),
        height: 200,
        series: [
          { value: (_u, v) => (v === null ? '–' : clock(v * 1000)) },
          {
            label: 'In',
            stroke: '#2b7de9',
            fill: 'rgba(43,125,233,0.12)',
            width: 2,
            value: (_u, v) => rate(v ?? undefined),
          },
          {
            label: 'Out',
            points: { show: false },
            stroke: '#e0732b',
            width: 2,
            value: (_u, v) => rate(v ?? undefined),
          },
        ],
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => rate(t)), size: 80 }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1024, max * 1.1)] } },
        legend: { live: true },
      },
      [[], [], []],
      host.current,
    )
    const onResize = () => plot.current?.setSize({ width: width(), height: 200 })
    window.addEventListener('resize', onResize)
    return () => {
      window.removeEventListener('resize', onResize)
      plot.current?.destroy()
      plot.current = undefined
    }
  }, [])
  useEffect(() => {
    plot.current?.setData([
      samples.map((s) => s.time / 1000),
      samples.map((s) => s.inPerSec),
      samples.map((s) => s.outPerSec),
    ])
  }, [samples])
  return <div class="chart" ref={host} data-testid="bandwidth-chart" />
}

/** An address others can dial: with this node's /p2p/ part. */
function withPeer(address: string, peerId: string): string {
  return address.includes('/p2p/') ? address : `${address}/p2p/${peerId}`
}
