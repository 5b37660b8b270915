/**
 * One side of a `bench stack` transfer, run as its own process:
 *   node stack-peer.ts recv KIND BYTES [CERT KEY]   -> prints {"address": ...}, then {"done": ...}
 *   node stack-peer.ts send KIND BYTES ADDRESS WRITE_SIZE -> prints {"seconds": ..., ...}
 * KIND: tcp | tls | libp2p-tls | libp2p-noise. Every process reports its CPU seconds and peak RSS.
 */
import { readFileSync } from 'node:fs'
import { connect as netConnect, createServer as netServer, type Socket } from 'node:net'
import { connect as tlsConnect, createServer as tlsServer } from 'node:tls'

// Lateral's modules are loaded only for the libp2p kinds, so the plain sockets' figures are clean.
async function lateralNode(kind: string, listen: string[]) {
  const muxer = JSON.parse(process.env.LATERAL_BENCH_MUXER ?? '{}')
  const { generateDeviceKey } = await import('../../src/identity/keystore.ts')
  const { createNode } = await import('../../src/node/node.ts')
  const encrypters: Array<'tls' | 'noise'> = [kind === 'libp2p-tls' ? 'tls' : 'noise']
  return createNode({ key: generateDeviceKey(), muxer, config: { listen, mdns: false, metrics: false, encrypters } })
}

const PROTOCOL = '/lateral/bench/1.0.0'
const [role, kind, bytesArg, arg4, arg5] = process.argv.slice(2) as [string, string, string, string?, string?]
const total = Number(bytesArg)

/** CPU used since `since` (the start of the transfer), in seconds. */
function cpuSince(since: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(since)
  return (cpu.user + cpu.system) / 1e6
}

function report(transferStart: NodeJS.CpuUsage, extra: Record<string, unknown>): void {
  const usage = process.resourceUsage()
  const line = { ...extra, cpuSeconds: cpuSince(transferStart), peakRssMiB: usage.maxRSS / 1024, node: process.version }
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

/** Count bytes from a socket until `total`, then send a one-byte acknowledgement. */
function receiveSocket(socket: Socket, done: (cpu: NodeJS.CpuUsage) => void): void {
  let received = 0
  let cpu: NodeJS.CpuUsage | undefined
  socket.on('data', (chunk: Buffer) => {
    cpu ??= process.cpuUsage()
    received += chunk.length
    if (received >= total) {
      socket.end(Buffer.from([1]))
      done(cpu)
    }
  })
}

async function sendSocket(socket: Socket, writeSize: number): Promise<{ seconds: number; cpu: NodeJS.CpuUsage }> {
  const chunk = Buffer.alloc(writeSize, 7)
  const cpu = process.cpuUsage()
  const start = performance.now()
  const acked = new Promise<void>((resolve) => socket.once('data', () => resolve()))
  for (let sent = 0; sent < total; sent += writeSize) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve))
  }
  await acked
  const seconds = (performance.now() - start) / 1000
  socket.destroy()
  return { seconds, cpu }
}

async function recv(): Promise<void> {
  if (kind === 'tcp' || kind === 'tls') {
    const onConn = (socket: Socket) =>
      receiveSocket(socket, (cpu) => {
        report(cpu, { done: true })
        server.close()
      })
    const server =
      kind === 'tcp'
        ? netServer(onConn)
        : tlsServer(
            { cert: readFileSync(arg4 as string), key: readFileSync(arg5 as string), minVersion: 'TLSv1.3' },
            onConn,
          )
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address() as { port: number }
      process.stdout.write(`${JSON.stringify({ address: `127.0.0.1:${addr.port}` })}\n`)
    })
    return
  }
  const node = await lateralNode(kind, ['/ip4/127.0.0.1/tcp/0'])
  await node.net.handle(PROTOCOL, async (stream) => {
    let received = 0
    let cpu: NodeJS.CpuUsage | undefined
    for await (const chunk of stream) {
      cpu ??= process.cpuUsage()
      received += chunk.byteLength
      if (received >= total) break
    }
    await stream.write(new Uint8Array([1]))
    await stream.close()
    report(cpu ?? process.cpuUsage(), { done: true })
    setTimeout(() => void node.stop().then(() => process.exit(0)), 200)
  })
  process.stdout.write(`${JSON.stringify({ address: node.net.addresses()[0] })}\n`)
}

async function send(address: string, writeSize: number): Promise<void> {
  if (kind === 'tcp' || kind === 'tls') {
    const [host, port] = address.split(':') as [string, string]
    const socket =
      kind === 'tcp'
        ? netConnect({ host, port: Number(port) })
        : tlsConnect({ host, port: Number(port), rejectUnauthorized: false, minVersion: 'TLSv1.3' })
    await new Promise((resolve) => socket.once(kind === 'tcp' ? 'connect' : 'secureConnect', resolve))
    const cipher = kind === 'tls' ? (socket as ReturnType<typeof tlsConnect>).getCipher().standardName : undefined
    const { seconds, cpu } = await sendSocket(socket, writeSize)
    report(cpu, { seconds, cipher })
    return
  }
  const node = await lateralNode(kind, [])
  const conn = await node.net.connect(address)
  const stream = await node.net.openStream(conn.peerId, PROTOCOL)
  const chunk = new Uint8Array(writeSize).fill(7)
  const cpu = process.cpuUsage()
  const start = performance.now()
  for (let sent = 0; sent < total; sent += writeSize) await stream.write(chunk)
  for await (const _ack of stream) break
  const seconds = (performance.now() - start) / 1000
  report(cpu, { seconds, encryption: conn.encryption, muxer: conn.muxer })
  await node.stop()
  process.exit(0)
}

if (role === 'recv') await recv()
else await send(arg4 as string, Number(arg5))
