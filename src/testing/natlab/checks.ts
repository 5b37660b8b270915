/**
 * What the NAT lab tests and the natlab benchmark do between two daemons: connect by peer ID,
 * a direct message each way, a file fetched, and the connection's kind (direct or relayed).
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PeerConnection } from '../../net/types.ts'
import type { TestDaemon } from '../testnet.ts'
import { waitFor } from '../wait.ts'
import type { NatLab } from './lab.ts'

export interface PairResult {
  /** ms from `connect` to the first message delivered. */
  firstMessageMs: number
  /** The kind right after the first message. */
  kindAtFirst: PeerConnection['kind']
  /** ms from `connect` until the connection was direct, if it became direct within the wait. */
  directMs?: number
  kind: PeerConnection['kind']
  /** Bytes per second of the file fetch, if a file was fetched. */
  fetchBps?: number
}

export async function json<T>(lab: NatLab, d: TestDaemon, args: string[], timeoutMs = 60_000): Promise<T> {
  const r = await lab.cli(d, [...args, '--json'], timeoutMs)
  if (r.code !== 0) throw new Error(`lateral ${args.join(' ')} on ${d.peerId.slice(-6)}: exit ${r.code} ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

export async function connectionTo(lab: NatLab, from: TestDaemon, to: TestDaemon): Promise<PeerConnection | undefined> {
  const { peers } = await lab.api<{ peers: PeerConnection[] }>(from, '/v1/peers')
  return peers.find((p) => p.peerId === to.peerId)
}

export async function sendMessage(lab: NatLab, from: TestDaemon, to: TestDaemon, text: string): Promise<void> {
  const sent = await json<{ status: string; error?: string }>(lab, from, ['msg', 'send', to.peerId, text])
  if (sent.status !== 'delivered') {
    throw new Error(
      `message ${JSON.stringify(text)} was ${sent.status}, not delivered: ${sent.error ?? 'no reason given'}`,
    )
  }
  await waitFor(
    async () => {
      const { messages } = await lab.api<{ messages: Array<{ from: string; text: string }> }>(to, '/v1/messages/inbox')
      return messages.some((m) => m.from === from.peerId && m.text === text) ? true : undefined
    },
    { timeoutMs: 20_000, intervalMs: 100, what: `message ${JSON.stringify(text)} in the inbox` },
  )
}

/** `a` connects to `b` by peer ID alone, then messages go both ways; optionally a file b -> a. */
export async function exercisePair(
  lab: NatLab,
  a: TestDaemon,
  b: TestDaemon,
  options: { fileBytes?: number; directWithinMs?: number } = {},
): Promise<PairResult> {
  const t0 = performance.now()
  const conn = await json<PeerConnection>(lab, a, ['connect', b.peerId], 90_000)
  if (conn.peerId !== b.peerId) throw new Error('connected to the wrong peer')
  await sendMessage(lab, a, b, `hello ${b.peerId.slice(-6)} from ${a.peerId.slice(-6)}`)
  const firstMessageMs = performance.now() - t0
  const kindAtFirst = (await connectionTo(lab, a, b))?.kind ?? 'relayed'
  await sendMessage(lab, b, a, `hello back ${a.peerId.slice(-6)}`)
  let directMs: number | undefined
  if (options.directWithinMs !== undefined) {
    await waitFor(async () => ((await connectionTo(lab, a, b))?.kind === 'direct' ? true : undefined), {
      timeoutMs: options.directWithinMs,
      intervalMs: 100,
      what: 'a direct connection',
    })
      .then(() => {
        directMs = performance.now() - t0
      })
      .catch(() => {})
  }
  const result: PairResult = {
    firstMessageMs,
    kindAtFirst,
    kind: (await connectionTo(lab, a, b))?.kind ?? 'relayed',
    ...(directMs === undefined ? {} : { directMs }),
  }
  if (options.fileBytes !== undefined) result.fetchBps = await fetchFile(lab, b, a, options.fileBytes)
  return result
}

/** `owner` adds a random file, `fetcher` gets it; checks the bytes; returns bytes per second. */
export async function fetchFile(lab: NatLab, owner: TestDaemon, fetcher: TestDaemon, bytes: number): Promise<number> {
  const name = randomBytes(6).toString('hex')
  const source = join(lab.dir, `${name}.bin`)
  const data = randomBytes(bytes)
  await writeFile(source, data)
  const { cid } = await json<{ cid: string }>(lab, owner, ['add', source])
  const out = join(lab.dir, `${name}.out`)
  const t0 = performance.now()
  await json(lab, fetcher, ['get', cid, '-o', out, '--timeout', '60'], 180_000)
  const ms = performance.now() - t0
  const got = await readFile(out)
  const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex')
  if (digest(got) !== digest(data)) throw new Error('the fetched file differs from the one added')
  return (bytes / ms) * 1000
}
