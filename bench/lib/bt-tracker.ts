/**
 * Just enough BitTorrent for the transfer benchmark's aria2c variant: a bencoder, a
 * single-file .torrent (SHA-1 piece hashes) and a tiny HTTP tracker on 127.0.0.1 that answers
 * announces with the other peers of the same torrent (compact form, BEP 3 and BEP 23).
 */
import { createHash } from 'node:crypto'
import { createReadStream, statSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basename } from 'node:path'

export type Bencodable = number | string | Uint8Array | Bencodable[] | { [key: string]: Bencodable }

export function bencode(value: Bencodable): Buffer {
  if (typeof value === 'number') return Buffer.from(`i${Math.trunc(value)}e`)
  if (typeof value === 'string') return bencode(Buffer.from(value))
  if (value instanceof Uint8Array) return Buffer.concat([Buffer.from(`${value.length}:`), value])
  if (Array.isArray(value)) return Buffer.concat([Buffer.from('l'), ...value.map(bencode), Buffer.from('e')])
  // Keys sorted as raw byte strings (they are ASCII here).
  const keys = Object.keys(value).sort()
  return Buffer.concat([
    Buffer.from('d'),
    ...keys.flatMap((k) => [bencode(k), bencode(value[k] as Bencodable)]),
    Buffer.from('e'),
  ])
}

/** A single-file torrent of `path` announcing to `announce`: its bytes and its info hash. */
export async function makeTorrent(
  path: string,
  announce: string,
  pieceLength: number,
): Promise<{ torrent: Buffer; infoHash: Buffer }> {
  const length = statSync(path).size
  const pieces: Buffer[] = []
  let piece = createHash('sha1')
  let inPiece = 0
  for await (const chunk of createReadStream(path, { highWaterMark: pieceLength }) as AsyncIterable<Buffer>) {
    let at = 0
    while (at < chunk.length) {
      const n = Math.min(pieceLength - inPiece, chunk.length - at)
      piece.update(chunk.subarray(at, at + n))
      inPiece += n
      at += n
      if (inPiece === pieceLength) {
        pieces.push(piece.digest())
        piece = createHash('sha1')
        inPiece = 0
      }
    }
  }
  if (inPiece > 0) pieces.push(piece.digest())
  const info = { length, name: basename(path), 'piece length': pieceLength, pieces: Buffer.concat(pieces), private: 1 }
  const infoHash = createHash('sha1').update(bencode(info)).digest()
  return { torrent: bencode({ announce, info }), infoHash }
}

/** Percent-decoding to bytes (a query's info_hash is binary, not UTF-8). */
function queryBytes(query: string, key: string): Buffer | undefined {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=')
    if (pair.slice(0, eq) !== key) continue
    const raw = pair.slice(eq + 1)
    const out: number[] = []
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] === '%') {
        out.push(Number.parseInt(raw.slice(i + 1, i + 3), 16))
        i += 2
      } else if (raw[i] === '+') out.push(0x20)
      else out.push(raw.charCodeAt(i))
    }
    return Buffer.from(out)
  }
  return undefined
}

export interface Tracker {
  url: string
  /** Resolves once a peer that has the whole torrent (left=0) has announced it. */
  seeded(infoHash: Buffer): Promise<void>
  close(): Promise<void>
}

/** An HTTP tracker on 127.0.0.1: every peer that announces is handed the others. */
export async function startTracker(): Promise<Tracker> {
  const swarms = new Map<string, Map<string, { port: number; left: number }>>()
  const waiting = new Map<string, Array<() => void>>()
  const server: Server = createServer((req, res) => {
    const url = req.url ?? ''
    const query = url.slice(url.indexOf('?') + 1)
    const infoHash = queryBytes(query, 'info_hash')
    const peerId = queryBytes(query, 'peer_id')
    const params = new URLSearchParams(query)
    const port = Number(params.get('port'))
    if (infoHash === undefined || peerId === undefined || !(port > 0)) {
      res.end(bencode({ 'failure reason': 'bad announce' }))
      return
    }
    const key = infoHash.toString('hex')
    const peers = swarms.get(key) ?? new Map<string, { port: number; left: number }>()
    swarms.set(key, peers)
    const left = Number(params.get('left') ?? '1')
    if (params.get('event') === 'stopped') peers.delete(peerId.toString('hex'))
    else peers.set(peerId.toString('hex'), { port, left })
    if (left === 0) for (const wake of waiting.get(key)?.splice(0) ?? []) wake()
    const others = [...peers].filter(([id]) => id !== peerId.toString('hex'))
    const compact = Buffer.alloc(6 * others.length)
    others.forEach(([, p], i) => {
      compact.set([127, 0, 0, 1], 6 * i)
      compact.writeUInt16BE(p.port, 6 * i + 4)
    })
    res.end(bencode({ interval: 5, 'min interval': 1, peers: compact }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/announce`,
    seeded(infoHash) {
      const key = infoHash.toString('hex')
      if ([...(swarms.get(key)?.values() ?? [])].some((p) => p.left === 0)) return Promise.resolve()
      return new Promise((resolve) => waiting.set(key, [...(waiting.get(key) ?? []), resolve]))
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
