/**
 * libp2p's TLS 1.3 handshake (`/tls/1.0.0`, the libp2p TLS spec) run by Node's TLS directly on
 * the TCP socket.
 *
 * `@libp2p/tls` is handed the upgrader's message stream, so Node runs TLS over a JS duplex:
 * every encrypted chunk goes socket -> TCP connection object -> duplex -> JS stream socket ->
 * OpenSSL, and back the same way, each step a JS call and an allocation. A TCP connection of
 * `@libp2p/tcp` carries its `net.Socket`; for those this encrypter takes the socket over after
 * multistream-select (the bytes the connection already read but nobody consumed go back to the
 * socket first) and gives it to `TLSSocket`, so OpenSSL reads and writes the socket natively.
 * The wire is byte for byte the same: any libp2p TLS peer is a peer of this one.
 *
 * Every other connection (a relayed circuit, WebSockets, the sim transport) is encrypted by
 * `@libp2p/tls` itself. The certificate and its check are `@libp2p/tls`'s own functions.
 */
import { Socket } from 'node:net'
import { type ConnectionOptions, connect, TLSSocket } from 'node:tls'
import {
  type AbortOptions,
  type ComponentLogger,
  type ConnectionEncrypter,
  InvalidCryptoExchangeError,
  type Logger,
  type MessageStream,
  type PeerId,
  type PrivateKey,
  type SecureConnectionOptions,
  type SecuredConnection,
  type StreamMuxerFactory,
  serviceCapabilities,
  TimeoutError,
} from '@libp2p/interface'
import { tls } from '@libp2p/tls'
import type { Uint8ArrayList } from 'uint8arraylist'
import { TLS_CLOSE_TIMEOUT_MS } from '../core/constants.ts'

interface TlsUtils {
  generateCertificate(privateKey: PrivateKey, options?: AbortOptions): Promise<{ cert: string; key: string }>
  verifyPeerCertificate(raw: Uint8Array, expected?: PeerId, log?: Logger): Promise<PeerId>
  toMessageStream(stream: MessageStream, socket: TLSSocket): MessageStream
}

/**
 * `@libp2p/tls`'s helpers. Its package exports only its entry point; the helpers sit beside it
 * (the version is pinned by the lock file, and the import fails loudly if they move).
 */
let utils: Promise<TlsUtils> | undefined
const tlsUtils = (): Promise<TlsUtils> => {
  utils ??= import(new URL('./utils.js', import.meta.resolve('@libp2p/tls')).href) as Promise<TlsUtils>
  return utils
}

export interface NativeTlsComponents {
  privateKey: PrivateKey
  logger: ComponentLogger
  upgrader: { getStreamMuxers(): Map<string, StreamMuxerFactory> }
}

/** The socket a TCP connection of `@libp2p/tcp` carries (its `socket` field), else undefined. */
function tcpSocketOf(connection: MessageStream): Socket | undefined {
  const socket = (connection as { socket?: unknown }).socket
  if (!(socket instanceof Socket) || socket instanceof TLSSocket) return undefined
  // A socket without its native handle (closed, or itself a JS stream) cannot be wrapped natively.
  if ((socket as { _handle?: unknown })._handle == null || socket.destroyed) return undefined
  // Writes still queued in the socket's JS buffer would reach the wire after TLS's own bytes.
  if (socket.writableLength > 0) return undefined
  if (!('readBuffer' in connection)) return undefined
  return socket
}

/** Sockets this encrypter took over, with their byte counts at that moment (traffic.ts counts from them). */
const takenOver = new WeakMap<MessageStream, { socket: Socket; bytesRead: number; bytesWritten: number }>()

/** The socket of a connection encrypted natively and its byte counts when it was taken over. */
export function nativeSocketOf(
  connection: MessageStream,
): { socket: Socket; bytesRead: number; bytesWritten: number } | undefined {
  return takenOver.get(connection)
}

/** Buffers whose bytes are awaited at the TLS sockets, with the bytes still to be written. */
const leases = new WeakMap<ArrayBufferLike, { pending: number; release: () => void }>()

/** See `Net.leaseBuffer`. A second lease of a buffer whose first is still open replaces nothing: it is refused. */
export function leaseBuffer(buffer: ArrayBuffer, bytes: number, release: () => void): void {
  if (bytes <= 0 || leases.has(buffer)) return
  leases.set(buffer, { pending: bytes, release })
}

/**
 * Count, for leased buffers, the bytes each write to the socket completes. A write's callback
 * comes once OpenSSL has encrypted its bytes and the ciphertext is written, so nothing below
 * holds the view any more. A failed write counts nothing: its buffer is never released.
 *
 * Sound as long as what sits above the socket hands each plaintext byte to `write` once, as a
 * view, and keeps none after its callback: true of Yamux, @libp2p/utils' message streams and
 * @libp2p/tls's encrypted stream at the versions in the lock file (read for this; any of them
 * that copies only means its bytes are never counted). An upgrade that retransmits or retains
 * plaintext above the socket would break it: test/net-native-tls.test.ts checks the counting.
 */
function countLeasedWrites(socket: TLSSocket): void {
  const write = socket.write
  socket.write = function (this: TLSSocket, chunk: unknown, ...rest: unknown[]): boolean {
    const lease = chunk instanceof Uint8Array ? leases.get(chunk.buffer) : undefined
    if (lease === undefined) return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)
    const buffer = (chunk as Uint8Array).buffer
    const n = (chunk as Uint8Array).byteLength
    const callback = rest.find((a) => typeof a === 'function') as ((err?: Error | null) => void) | undefined
    const encoding = rest.find((a) => typeof a === 'string')
    const done = (err?: Error | null) => {
      if (err == null && leases.get(buffer) === lease) {
        lease.pending -= n
        if (lease.pending <= 0) {
          leases.delete(buffer)
          if (lease.pending === 0) lease.release()
        }
      }
      callback?.(err)
    }
    return encoding === undefined
      ? (write as (...a: unknown[]) => boolean).call(this, chunk, done)
      : (write as (...a: unknown[]) => boolean).call(this, chunk, encoding, done)
  } as TLSSocket['write']
}

/**
 * Buffers a TLS socket read and handed up carry this key: `true` while nothing of them is
 * released, then the ranges released so far. Node gives each read of a TLS socket an ArrayBuffer
 * of its own, exactly as long as the bytes read; only those are listed (a view that starts
 * elsewhere or stops short is someone else's buffer). A key on the buffer rather than a WeakMap:
 * a download lists 65,536 buffers per GiB, and the key costs a quarter of the map's time.
 */
const RECEIVED = Symbol('lateral.received')
type Listed = ArrayBufferLike & { [RECEIVED]?: true | Array<[number, number]> | undefined }

/** List each chunk the socket reads as it is read, before anything above sees it. */
function listReceived(socket: TLSSocket): void {
  socket.prependListener('data', (chunk: Uint8Array) => {
    if (chunk.byteLength > 0 && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength) {
      ;(chunk.buffer as Listed)[RECEIVED] = true
    }
  })
}

/** Add [start, end) to sorted disjoint ranges, merging; whether they now cover [0, length). */
function cover(ranges: Array<[number, number]>, start: number, end: number, length: number): boolean {
  let i = 0
  while (i < ranges.length && (ranges[i] as [number, number])[1] < start) i++
  let j = i
  while (j < ranges.length && (ranges[j] as [number, number])[0] <= end) {
    const [s, e] = ranges[j] as [number, number]
    start = Math.min(start, s)
    end = Math.max(end, e)
    j++
  }
  ranges.splice(i, j - i, [start, end])
  return ranges.length === 1 && start === 0 && end === length
}

/**
 * See `Net.releaseReceived`. A buffer goes back (is detached, its memory freed at once) when
 * views released so far cover every byte of it; a view released twice counts once.
 *
 * Sound as long as no layer between the socket and the caller keeps a view of bytes it has
 * handed up: true of @libp2p/tls's encrypted stream, @libp2p/utils' message streams and Yamux at
 * the versions in the lock file (read for this), as for `leaseBuffer`. A layer that kept one
 * would find it empty (length 0), not holding other bytes: test/net-native-tls.test.ts checks it.
 */
export function releaseReceived(views: readonly Uint8Array[]): number {
  let freed = 0
  for (const view of views) {
    const buffer = view.buffer as Listed
    const listed = buffer[RECEIVED]
    if (listed === undefined || view.byteLength === 0) continue
    const length = buffer.byteLength
    // Most views are all of their buffer (a chunk inside one block): no ranges to keep.
    if (view.byteLength !== length) {
      const ranges = listed === true ? [] : listed
      buffer[RECEIVED] = ranges
      if (!cover(ranges, view.byteOffset, view.byteOffset + view.byteLength, length)) continue
    }
    // Set, not deleted: deleting a key turns the object's properties into a slow dictionary.
    buffer[RECEIVED] = undefined
    // ES2024's transfer(): the buffer is detached and its memory given back now, not at a GC.
    // A buffer that cannot be detached (none that a TLS socket reads) is left to the collector.
    try {
      ;(buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }).transfer(0)
      freed += length
    } catch {}
  }
  return freed
}

class NativeTls implements ConnectionEncrypter {
  readonly protocol = '/tls/1.0.0'
  readonly [Symbol.toStringTag] = '@lateral/native-tls'
  readonly [serviceCapabilities] = ['@libp2p/connection-encryption']
  readonly #components: NativeTlsComponents
  readonly #fallback: ConnectionEncrypter
  readonly #log: Logger

  constructor(components: NativeTlsComponents) {
    this.#components = components
    this.#fallback = tls()(components as Parameters<ReturnType<typeof tls>>[0])
    this.#log = components.logger.forComponent('lateral:native-tls')
  }

  secureInbound(connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return tcpSocketOf(connection) === undefined
      ? this.#fallback
          .secureInbound(connection, options)
          .then((secured) => closesCleanly(connection, secured, this.#log))
      : this.#encrypt(connection, true, options)
  }

  secureOutbound(connection: MessageStream, options?: SecureConnectionOptions): Promise<SecuredConnection> {
    return tcpSocketOf(connection) === undefined
      ? this.#fallback
          .secureOutbound(connection, options)
          .then((secured) => closesCleanly(connection, secured, this.#log))
      : this.#encrypt(connection, false, options)
  }

  async #encrypt(
    connection: MessageStream,
    isServer: boolean,
    options?: SecureConnectionOptions,
  ): Promise<SecuredConnection> {
    const { generateCertificate, verifyPeerCertificate, toMessageStream } = await tlsUtils()
    const log = connection.log?.newScope('native-tls') ?? this.#log
    const muxers = this.#components.upgrader.getStreamMuxers()
    const offered = options?.skipStreamMuxerNegotiation === true ? [] : [...muxers.keys()]
    let muxer: StreamMuxerFactory | undefined
    const tlsOptions: ConnectionOptions = {
      ...(await generateCertificate(this.#components.privateKey, options)),
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      // Certificates are self-signed; the libp2p extension is what is checked (below).
      rejectUnauthorized: false,
      // The spec's early muxer negotiation: the muxers by ALPN, `libp2p` when there is none.
      ALPNProtocols: [...offered, 'libp2p'],
      ALPNCallback: ({ protocols }) => {
        const known = protocols.find((p) => p !== 'libp2p' && muxers.has(p))
        muxer = known === undefined ? undefined : muxers.get(known)
        return known ?? (protocols.includes('libp2p') ? 'libp2p' : undefined)
      },
    }

    // Re-checked: generating the certificate awaited, and the connection may have gone meanwhile.
    const raw = tcpSocketOf(connection)
    if (raw === undefined) throw new InvalidCryptoExchangeError('the connection closed before its TLS handshake')
    takenOver.set(connection, takeOver(connection, raw))
    const secure = isServer
      ? new TLSSocket(raw, { ...tlsOptions, isServer: true, requestCert: true })
      : connect({ ...tlsOptions, socket: raw })
    // The connection's inactivity timeout, now kept by the socket that sees the traffic.
    secure.setTimeout(connection.inactivityTimeout ?? 120_000)
    secure.once('timeout', () => {
      secure.destroy()
      connection.abort(new TimeoutError('the TLS connection was idle too long'))
    })

    return new Promise<SecuredConnection>((resolve, reject) => {
      let done = false
      const fail = (err: Error) => {
        if (done) return
        done = true
        log.error('TLS handshake of %s connection failed - %e', connection.direction, err)
        secure.destroy()
        connection.abort(err)
        reject(err)
      }
      const onAbort = () =>
        fail(new TimeoutError(`TLS handshake aborted: ${String(options?.signal?.reason ?? 'signal aborted')}`))
      options?.signal?.addEventListener('abort', onAbort, { once: true })
      const settled = () => options?.signal?.removeEventListener('abort', onAbort)
      secure.on('error', (err) => {
        settled()
        fail(err)
      })
      // A TCP close in the middle of the handshake may come without an error.
      const onClose = () => {
        settled()
        fail(new InvalidCryptoExchangeError('the connection closed during the TLS handshake'))
      }
      secure.once('close', onClose)
      secure.once('secure', () => {
        verifyPeerCertificate(secure.getPeerCertificate().raw, options?.remotePeer, log).then(
          (remotePeer) => {
            settled()
            if (done) return
            if (!isServer && typeof secure.alpnProtocol === 'string' && secure.alpnProtocol !== 'libp2p') {
              muxer = muxers.get(secure.alpnProtocol)
              if (muxer === undefined) {
                fail(new InvalidCryptoExchangeError(`the remote chose muxer ${secure.alpnProtocol}, which is not ours`))
                return
              }
            }
            // From here errors and the close are the connection's, handled by the stream built on the socket.
            done = true
            secure.off('close', onClose)
            secure.removeAllListeners('error')
            countLeasedWrites(secure)
            const secured = closesCleanly(
              connection,
              {
                remotePeer,
                connection: toMessageStream(connection, secure),
                ...(options?.skipStreamMuxerNegotiation === true || muxer === undefined ? {} : { streamMuxer: muxer }),
              },
              log,
            )
            listReceived(secure)
            resolve(secured)
          },
          (err: Error) => {
            settled()
            fail(err)
          },
        )
      })
    })
  }
}

/**
 * Detach the TCP connection object from its socket: its data and idle-timeout listeners go, and
 * the bytes it read that nobody consumed (what followed the multistream-select answer) are put
 * back at the front of the socket, where TLSSocket reads them first. The connection keeps its
 * close and error listeners, so it still learns when the socket ends.
 */
function takeOver(connection: MessageStream, raw: Socket): { socket: Socket; bytesRead: number; bytesWritten: number } {
  raw.pause()
  raw.removeAllListeners('data')
  raw.setTimeout(0)
  raw.removeAllListeners('timeout')
  const unread = (connection as unknown as { readBuffer: Uint8ArrayList }).readBuffer
  if (unread.byteLength > 0) {
    const bytes = unread.subarray()
    unread.consume(unread.byteLength)
    raw.unshift(bytes)
  }
  return { socket: raw, bytesRead: raw.bytesRead, bytesWritten: raw.bytesWritten }
}

/**
 * Wait until what `stream` holds in its own write buffer (queued there while its socket was
 * full) has gone to the socket, or it closed; rejects with the signal's reason if that comes first.
 */
async function flushed(stream: MessageStream, signal: AbortSignal): Promise<void> {
  while ((stream.writeBufferLength > 0 || stream.writableNeedsDrain) && stream.status === 'open') {
    signal.throwIfAborted()
    await new Promise<void>((resolve) => {
      const done = () => {
        for (const name of ['idle', 'drain', 'close'] as const) stream.removeEventListener(name, done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      for (const name of ['idle', 'drain', 'close'] as const) stream.addEventListener(name, done)
      signal.addEventListener('abort', done)
    })
  }
  signal.throwIfAborted()
}

/**
 * A secured connection whose close loses nothing: what was written before it reaches the peer.
 *
 * libp2p closes a connection by closing its muxer, then the transport's connection under TLS (a
 * TCP socket, or a relayed stream for `@libp2p/tls`). Closed at once, that connection went while
 * TLS still had the muxer's last frames to write: they failed (`write EBADF` on a native
 * socket), and the peer saw a clean close short of data and without Yamux's GoAway. And the
 * encrypted stream's own close ends TLS at once, dropping what waits in its write buffer.
 * Measured with a 1 MiB stream closed and its connection closed right after: the peer got
 * 786,408 bytes over native TLS, and none of a 1,000-byte one over `@libp2p/tls`.
 *
 * So closing the transport's connection first flushes the encrypted stream's write buffer, then
 * ends TLS (its close_notify after the last byte), and only then closes the transport's
 * connection. One close runs at a time: a second call joins it. Calls from below go straight
 * through, with the first call's deadline: the encrypted stream's, once TLS has closed (after
 * our close, the peer's, or a reset), and on `@libp2p/tls`, its duplex ending the transport's
 * stream once TLS has written its last bytes. The flush and TLS's end are bounded by the
 * caller's signal, or by TLS_CLOSE_TIMEOUT_MS when it gives none (libp2p's connection close
 * gives 1 s; a WebSockets listener gives none); past it the transport's connection is aborted,
 * so nothing is left half closed under a live TLS session. An abort of the transport's
 * connection destroys the TLS socket first, for the same reason.
 */
function closesCleanly(raw: MessageStream, secured: SecuredConnection, log: Logger): SecuredConnection {
  // @libp2p/tls's encrypted stream keeps its TLS socket as `socket` (the version in the lock file).
  const socket = (secured.connection as { socket?: unknown }).socket
  if (!(socket instanceof TLSSocket)) return secured
  const encrypted = secured.connection
  // Native TLS closes the transport's connection only after its socket closed; `@libp2p/tls`'s
  // duplex does once TLS has ended, before that.
  const native = takenOver.has(raw)
  const endTls = encrypted.close.bind(encrypted)
  const rawClose = raw.close.bind(raw)
  let closing: Promise<void> | undefined
  let ending = false
  let deadline: AbortOptions | undefined
  let rawClosing: Promise<void> | undefined
  const closeRaw = (options?: AbortOptions): Promise<void> => {
    rawClosing ??= rawClose(options)
    return rawClosing
  }

  // An abort from above (libp2p's upgrader refusing the peer once TLS named it: the connection
  // gater on a banned or hung-up peer) ends TLS first: the TCP socket destroyed under a live TLS
  // socket that still had bytes to read crashed the process (SIGSEGV in OpenSSL's SSL_read).
  const rawAbort = raw.abort.bind(raw)
  raw.abort = (err: Error): void => {
    if (!socket.destroyed) socket.destroy()
    rawAbort(err)
  }
  raw.close = (options?: AbortOptions): Promise<void> => {
    if (socket.closed || socket.destroyed || (ending && !native)) return closeRaw(options ?? deadline)
    closing ??= (async () => {
      const signal = options?.signal ?? AbortSignal.timeout(TLS_CLOSE_TIMEOUT_MS)
      deadline = { ...options, signal }
      try {
        await flushed(encrypted, signal)
        ending = true
        await endTls(deadline)
      } catch (err) {
        // Out of time (or TLS failed): end it for certain rather than close the transport's
        // connection under a TLS session that is still open.
        raw.abort(err as Error)
        if (options?.signal !== undefined || !signal.aborted) throw err
        log('closing gave up after %d ms; what was left unsent is dropped', TLS_CLOSE_TIMEOUT_MS)
        return
      }
      await closeRaw(deadline)
    })()
    return closing
  }
  return secured
}

/** The `/tls/1.0.0` encrypter: native TLS on TCP sockets, `@libp2p/tls` on everything else. */
export function nativeTls(): (components: NativeTlsComponents) => ConnectionEncrypter {
  return (components) => new NativeTls(components)
}
