/**
 * Recovery through guardians, the flows around the log entries (docs/protocols/recovery.md):
 *
 * - a person's device sets the guardians (their identities, a threshold, a delay) and appoints
 *   each guardian's devices, which then keep the person's log;
 * - a fresh device starts a recovery of an identity: a request code (a pairing code whose secret is
 *   the request's nonce) and a short string to read to the guardians;
 * - a guardian approves the code: its node fetches the request from the new device, shows the
 *   short string, and once a person confirms it, signs an approval and sends it back;
 * - with approvals of a threshold of guardians the new device writes the recover entry; every
 *   current device learns of it at once (and may veto); once due it writes the completion, asks
 *   the guardians for their shares, rebuilds the old data key, takes the identity as its own and
 *   writes a new data key and a new backup.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { sha256 } from '../../core/crypto.ts'
import { InvalidInputError, NotFoundError } from '../../core/errors.ts'
import { encodeFrame, readFrames } from '../../core/framing.ts'
import type { IdentityHeads } from '../../core/identities.ts'
import type { Logger } from '../../core/logger.ts'
import type { KeyAgreement, Signer } from '../../core/signer.ts'
import type { Net, ProtocolStream } from '../../net/index.ts'
import { type IdentityLog, newDataKey } from '../log/index.ts'
import { type Guardian, signApproval, verifyApproval } from '../log/recovery-entries.ts'
import { combineShares, type GuardianKeys, openShare, sealShare, splitDataKey } from '../log/shares.ts'
import type { EntryInput } from '../log/write.ts'
import { createPairingCode, decodePairingCode } from '../pairing/code.ts'
import { sameShortString, shortStringOf } from '../pairing/transcript.ts'
import {
  decodeAnswer,
  decodeRequest,
  encode,
  RECOVERY_FRAME_MAX_BYTES,
  RECOVERY_PROTOCOL,
  type RecoveryAnswer,
  type RecoveryRequest,
  signRequest,
  verifyRequest,
} from './wire.ts'

export interface RecoverySessionView {
  id: string
  /** `recovering`: this fresh device asks; `guardian`: this node approves for another person. */
  role: 'recovering' | 'guardian'
  identity: string
  /** The recovering device. */
  device: string
  /** Recovering side: the code to give the guardians. */
  code?: string
  shortString: string
  state: 'waiting' | 'compare' | 'approved' | 'pending' | 'completed' | 'vetoed' | 'aborted' | 'failed'
  /** Guardians whose approvals arrived (recovering side). */
  approvals: string[]
  threshold?: number
  /** When the recovery may complete, ms. */
  dueAt?: number
  error?: string
  /** Shares refused while rebuilding the data key, and why. */
  refusedShares?: Array<{ from: string; reason: string }>
}

export interface RecoveryHost {
  net: Net
  signer: Signer
  keyAgreement: KeyAgreement
  log: Logger
  ownLog(): IdentityLog
  logOf(id: string): IdentityLog | undefined
  /** Fetch an identity's log from a peer, merge and keep it (not pinned: pin what must stay). */
  fetchLog(peer: string, id: string): Promise<IdentityLog | undefined>
  /** Ask connected peers for an identity's log this node lacks (IdentityDirectory.refresh). */
  refresh(id: string): Promise<boolean>
  /** Save a kept (not own) log after this node appended to it, and announce its heads. */
  saveKnown(log: IdentityLog): Promise<void>
  write(input: EntryInput): Promise<void>
  /** Make `log` this device's identity. */
  adopt(log: IdentityLog): Promise<void>
  /** Keep a data key of an earlier epoch rebuilt from the guardians' shares. */
  keepRecoveredKey(identity: string, epoch: number, key: Uint8Array): Promise<void>
  observeHeads(from: string, heads: IdentityHeads): void
  pin(id: string): void
  resolveIdentity(target: string): Promise<string>
  emit(view: RecoverySessionView): void
  deviceName(): string
}

export interface RecoveryInit {
  minDelayMs: number
  codeTtlMs: number
  timeoutMs: number
}

interface Session {
  view: RecoverySessionView
  nonce: Uint8Array
  request?: Uint8Array
  approvals: Map<string, Uint8Array>
  guardianOf?: string
}

export class Recovery {
  readonly #h: RecoveryHost
  readonly #init: RecoveryInit
  readonly #sessions = new Map<string, Session>()
  /** Guardian devices not reached yet with their appointment. */
  readonly #appointments = new Set<string>()
  #running = false

  constructor(host: RecoveryHost, init: RecoveryInit) {
    this.#h = host
    this.#init = init
  }

  async start(): Promise<void> {
    this.#running = true
    await this.#h.net.handle(RECOVERY_PROTOCOL, (s) => this.#serve(s), {
      maxInboundStreams: 8,
      writeTimeoutMs: this.#init.timeoutMs,
    })
    this.#h.net.addEventListener('peer:connect', this.#onConnect)
  }

  async stop(): Promise<void> {
    this.#running = false
    this.#h.net.removeEventListener('peer:connect', this.#onConnect)
    await this.#h.net.unhandle(RECOVERY_PROTOCOL).catch(() => {})
  }

  // ---- guardians ----

  /** Set the guardians of this node's identity, with a backup of its data key split among them. */
  async setGuardians(targets: string[], threshold: number, delayMs: number): Promise<void> {
    if (delayMs < this.#init.minDelayMs) {
      throw new InvalidInputError(
        `the delay must be at least ${this.#init.minDelayMs} ms (identity.recoveryMinDelayMs)`,
      )
    }
    const ids = [...new Set(await Promise.all(targets.map((t) => this.#h.resolveIdentity(t))))].sort()
    if (threshold < 1 || threshold > ids.length) {
      throw new InvalidInputError(`the threshold must be between 1 and the number of guardians (${ids.length})`)
    }
    await this.#h.write(await this.#guardianEntry(ids, threshold, delayMs))
    await this.appointAll()
  }

  /** The same guardians again with a backup of the current data key (after a rotation or a recovery). */
  async resplit(): Promise<void> {
    const current = this.#h.ownLog().state().guardians
    const set = current.pending ?? current.current
    if (set === undefined) return
    await this.#h.write(
      await this.#guardianEntry(
        set.guardians.map((g) => g.identity),
        set.threshold,
        set.delay,
      ),
    )
    await this.appointAll()
  }

  async #guardianEntry(ids: string[], threshold: number, delay: number): Promise<EntryInput> {
    const own = this.#h.ownLog()
    if (ids.includes(own.id)) throw new InvalidInputError('an identity cannot guard itself')
    // A guardian's log not met yet (a device just recovered, say): ask the connected peers first.
    await Promise.all(ids.filter((id) => this.#h.logOf(id) === undefined).map((id) => this.#h.refresh(id)))
    const keys: GuardianKeys[] = ids.map((id) => {
      const log = this.#h.logOf(id)
      if (log === undefined) {
        throw new InvalidInputError(`the log of ${id} is not known here: add it as a contact and connect once first`)
      }
      const devices = log
        .state()
        .devices.slice(0, 4)
        .map((d) => ({ peerId: d.peerId, x25519: d.x25519 }))
      return { identity: id, devices }
    })
    const guardians: Guardian[] = keys.map((k) => ({ identity: k.identity, devices: k.devices.map((d) => d.peerId) }))
    const { epoch, key } = own.openDataKey(this.#h.keyAgreement, this.#h.signer.peerId)
    const { digests, shares } = await splitDataKey(key, keys, threshold, own.id, epoch)
    return { kind: 'setGuardians', guardians, threshold, delay, epoch, digests, shares }
  }

  /** Tell each guardian device it guards this identity (so it keeps the log); again on connect. */
  async appointAll(): Promise<void> {
    const state = this.#h.ownLog().state()
    const set = state.guardians.pending ?? state.guardians.current
    for (const g of set?.guardians ?? []) for (const d of g.devices) this.#appointments.add(d)
    await Promise.all([...this.#appointments].map((d) => this.#appoint(d)))
  }

  async #appoint(device: string): Promise<void> {
    const own = this.#h.ownLog()
    try {
      const answer = await this.#ask(device, { t: 'appoint', heads: { id: own.id, heads: own.heads() } })
      if (answer.t === 'ok') this.#appointments.delete(device)
    } catch (err) {
      this.#h.log.debug('guardian not reached yet', { device, error: (err as Error).message })
    }
  }

  // ---- the recovering device ----

  async startRecovery(target: string, name?: string): Promise<RecoverySessionView> {
    const identity = await this.#h.resolveIdentity(target)
    const known = this.#h.logOf(identity)
    if (known?.isMember(this.#h.signer.peerId) === true) {
      throw new InvalidInputError('this device is already a device of that identity')
    }
    if (known?.revokedAt(this.#h.signer.peerId) !== undefined) {
      throw new InvalidInputError('this device was a device of that identity: a recovery brings a new device')
    }
    const created = createPairingCode({
      publicKey: this.#h.signer.publicKey,
      addresses: this.#h.net.addresses(),
      ttlMs: this.#init.codeTtlMs,
    })
    const request = await signRequest(this.#h.signer, {
      identity,
      name: name ?? this.#h.deviceName(),
      x25519: this.#h.keyAgreement.x25519PublicKey,
      nonce: created.secret,
      time: Date.now(),
    })
    const id = Buffer.from(created.secret.subarray(0, 8)).toString('hex')
    const session: Session = {
      nonce: created.secret,
      request,
      approvals: new Map(),
      view: {
        id,
        role: 'recovering',
        identity,
        device: this.#h.signer.peerId,
        code: created.code,
        shortString: shortStringOf(created.secret, sha256(request)),
        state: 'waiting',
        approvals: [],
      },
    }
    this.#sessions.set(id, session)
    this.#emit(session)
    return { ...session.view }
  }

  async #onApproval(from: string, bytes: Uint8Array): Promise<RecoveryAnswer> {
    const a = verifyApproval(bytes)
    const session = [...this.#sessions.values()].find(
      (s) => s.view.role === 'recovering' && Buffer.from(s.nonce).equals(Buffer.from(a.nonce)),
    )
    if (session === undefined) throw new InvalidInputError('no recovery of this device waits for that approval')
    if (a.identity !== session.view.identity || a.device !== this.#h.signer.peerId || a.by !== from) {
      throw new InvalidInputError('the approval is for another request')
    }
    // The approving guardian keeps the log as it stands: a copy held here may predate the guardians.
    const log = (await this.#h.fetchLog(from, a.identity).catch(() => undefined)) ?? this.#h.logOf(a.identity)
    if (log !== undefined) this.#h.pin(log.id)
    if (log === undefined) throw new InvalidInputError(`the log of ${a.identity} cannot be had from ${from}`)
    const set = log.state().guardians.current
    const guardian = set?.guardians.find((g) => g.identity === a.guardian)
    if (set === undefined || guardian === undefined || !guardian.devices.includes(a.by)) {
      throw new InvalidInputError(`${a.guardian} is not a guardian of ${a.identity} in force`)
    }
    session.approvals.set(a.guardian, bytes)
    session.view.approvals = [...session.approvals.keys()].sort()
    session.view.threshold = set.threshold
    this.#emit(session)
    if (session.approvals.size >= set.threshold && session.view.state === 'waiting') void this.#recover(session, log)
    return { t: 'ok' }
  }

  async #recover(session: Session, log: IdentityLog): Promise<void> {
    try {
      await log.append(this.#h.signer, {
        kind: 'recover',
        name: this.#h.deviceName(),
        x25519: this.#h.keyAgreement.x25519PublicKey,
        nonce: session.nonce,
        approvals: [...session.approvals.values()],
      })
      await this.#h.saveKnown(log)
      const r = log.state().recovery
      session.view.state = 'pending'
      if (r !== undefined) session.view.dueAt = r.dueAt
      this.#emit(session)
      await this.#complete(session, log)
    } catch (err) {
      this.#fail(session, err)
    }
  }

  async #complete(session: Session, log: IdentityLog): Promise<void> {
    const wait = (session.view.dueAt ?? Date.now()) - Date.now()
    if (wait > 0) await sleep(wait + 50, undefined, { ref: false })
    if (!this.#running) return
    const r = log.state().recovery
    if (r?.state === 'vetoed') {
      session.view.state = 'vetoed'
      session.view.error = `a device of the identity vetoed the recovery (${r.vetoedBy?.device})`
      this.#emit(session)
      return
    }
    await log.append(this.#h.signer, { kind: 'completeRecovery', recovery: r?.entry as string })
    await this.#h.saveKnown(log)
    const set = log.guardianSet(r?.set as string)
    if (set !== undefined && set.epoch > 0) {
      const released: Array<{ index: number; share: Uint8Array; from: string }> = []
      for (const [index, g] of set.guardians.entries()) {
        for (const device of g.devices) {
          try {
            const answer = await this.#ask(device, { t: 'share', identity: log.id })
            if (answer.t !== 'share') continue
            const share = openShare(answer.sealed, this.#h.keyAgreement, { identity: log.id, epoch: set.epoch, index })
            released.push({ index: answer.index, share, from: g.identity })
            break
          } catch (err) {
            this.#h.log.info('a guardian did not release its share', { device, error: (err as Error).message })
          }
        }
      }
      const rebuilt = await combineShares(released, set.digests, set.threshold, log.id, set.epoch)
      if (rebuilt.refused.length > 0) session.view.refusedShares = rebuilt.refused
      await this.#h.keepRecoveredKey(log.id, set.epoch, rebuilt.key)
    }
    await this.#h.adopt(log)
    await this.#h.write({ kind: 'rotateDataKey', dataKey: newDataKey() })
    await this.resplit().catch((err) =>
      this.#h.log.warn('the new backup with the guardians was not written', { error: (err as Error).message }),
    )
    session.view.state = 'completed'
    this.#emit(session)
  }

  // ---- a guardian ----

  async approve(code: string): Promise<RecoverySessionView> {
    const decoded = decodePairingCode(code)
    if (decoded.expiresAt < Date.now()) throw new InvalidInputError('this recovery code has expired')
    if (decoded.addresses.length > 0) await this.#h.net.connect(decoded.addresses[0] as string).catch(() => {})
    const answer = await this.#ask(decoded.peerId, { t: 'request', nonce: decoded.secret })
    if (answer.t !== 'request') throw new InvalidInputError(answer.t === 'refused' ? answer.error : 'no request')
    const request = verifyRequest(answer.request)
    if (request.device !== decoded.peerId || !Buffer.from(request.nonce).equals(Buffer.from(decoded.secret))) {
      throw new InvalidInputError('the device answered with another request')
    }
    const own = this.#h.ownLog().id
    const log = this.#h.logOf(request.identity)
    if (log === undefined) throw new InvalidInputError(`this node does not know identity ${request.identity}`)
    const set = log.state().guardians.current
    if (set?.guardians.some((g) => g.identity === own && g.devices.includes(this.#h.signer.peerId)) !== true) {
      throw new InvalidInputError(`this device is not a guardian of ${request.identity} in force`)
    }
    const id = Buffer.from(decoded.secret.subarray(8, 16)).toString('hex')
    const session: Session = {
      nonce: decoded.secret,
      request: answer.request,
      approvals: new Map(),
      guardianOf: request.identity,
      view: {
        id,
        role: 'guardian',
        identity: request.identity,
        device: request.device,
        shortString: shortStringOf(decoded.secret, sha256(answer.request)),
        state: 'compare',
        approvals: [],
      },
    }
    this.#sessions.set(id, session)
    this.#emit(session)
    return { ...session.view }
  }

  /** A person compared the short string (typed it back, or said yes): approve, or abort on a mismatch. */
  async confirm(id: string, typed: string): Promise<RecoverySessionView> {
    const session = this.#sessions.get(id)
    if (session === undefined) throw new NotFoundError(`no recovery session ${id}`)
    if (session.view.role === 'recovering') return { ...session.view }
    if (session.view.state !== 'compare') return { ...session.view }
    const ok = typed.trim().toLowerCase() === 'yes' || sameShortString(typed, session.view.shortString)
    if (!ok) {
      session.view.state = 'aborted'
      session.view.error = 'the strings differ: not approved'
      this.#emit(session)
      return { ...session.view }
    }
    const request = verifyRequest(session.request as Uint8Array)
    const approval = await signApproval(this.#h.signer, {
      identity: request.identity,
      device: request.device,
      x25519: request.x25519,
      nonce: request.nonce,
      guardian: this.#h.ownLog().id,
      time: Date.now(),
    })
    try {
      const answer = await this.#ask(request.device, { t: 'approve', approval })
      if (answer.t === 'refused') throw new InvalidInputError(answer.error)
      session.view.state = 'approved'
    } catch (err) {
      this.#fail(session, err)
    }
    this.#emit(session)
    return { ...session.view }
  }

  sessions(): RecoverySessionView[] {
    return [...this.#sessions.values()].map((s) => ({ ...s.view }))
  }

  session(id: string): RecoverySessionView {
    const s = this.#sessions.get(id)
    if (s === undefined) throw new NotFoundError(`no recovery session ${id}`)
    return { ...s.view }
  }

  /** A current device vetoes the pending recovery of its identity. */
  async veto(): Promise<void> {
    const r = this.#h.ownLog().state().recovery
    if (r?.state !== 'pending') throw new NotFoundError('no recovery of this identity is pending')
    await this.#h.write({ kind: 'veto', recovery: r.entry })
  }

  // ---- the wire ----

  async #serve(stream: ProtocolStream): Promise<void> {
    const from = stream.remotePeer
    let answer: RecoveryAnswer
    try {
      let request: RecoveryRequest | undefined
      for await (const frame of readFrames(stream, RECOVERY_FRAME_MAX_BYTES)) {
        request = decodeRequest(frame.subarray())
        break
      }
      if (request === undefined) return
      answer = await this.#answer(from, request)
    } catch (err) {
      if (err instanceof InvalidInputError) this.#h.net.penalize(from, 1, `bad recovery request: ${err.message}`)
      answer = { t: 'refused', error: (err as Error).message }
    }
    try {
      await stream.write(encodeFrame(encode(answer)))
      await stream.close()
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  async #answer(from: string, request: RecoveryRequest): Promise<RecoveryAnswer> {
    switch (request.t) {
      case 'appoint': {
        // Keep the person's log for good (this node may be asked to approve a recovery of it one
        // day), but only when the log says so: a device of it appoints this node's identity.
        const id = request.heads.id
        const log = (await this.#h.fetchLog(from, id)) ?? this.#h.logOf(id)
        const s = log?.state()
        const own = this.#h.ownLog().id
        const named = [s?.guardians.current, s?.guardians.pending].some((set) =>
          set?.guardians.some((g) => g.identity === own && g.devices.includes(this.#h.signer.peerId)),
        )
        if (log === undefined || !log.isMember(from) || !named) {
          return { t: 'refused', error: 'that identity does not name this device as a guardian' }
        }
        this.#h.pin(id)
        this.#h.observeHeads(from, request.heads)
        return { t: 'ok' }
      }
      case 'request': {
        const session = [...this.#sessions.values()].find(
          (s) => s.view.role === 'recovering' && Buffer.from(s.nonce).equals(Buffer.from(request.nonce)),
        )
        if (session?.request === undefined) return { t: 'refused', error: 'no such recovery request here' }
        return { t: 'request', request: session.request }
      }
      case 'approve':
        return this.#onApproval(from, request.approval)
      case 'share':
        return this.#releaseShare(from, request.identity)
    }
  }

  /** Release this guardian's share to the device that completed a recovery of `identity`. */
  async #releaseShare(from: string, identity: string): Promise<RecoveryAnswer> {
    const log = (await this.#h.fetchLog(from, identity)) ?? this.#h.logOf(identity)
    const r = log?.state().recovery
    if (log === undefined || r?.state !== 'completed' || r.device !== from) {
      return { t: 'refused', error: 'no completed recovery of that identity by this device' }
    }
    const set = log.guardianSet(r.set)
    const own = this.#h.ownLog().id
    const index = set?.guardians.findIndex((g) => g.identity === own) ?? -1
    const sealed = set?.shares.find((s) => s.guardian === index && s.device === this.#h.signer.peerId)
    if (set === undefined || sealed === undefined)
      return { t: 'refused', error: 'this device holds no share of that set' }
    const ctx = { identity, epoch: set.epoch, index }
    const share = openShare(sealed, this.#h.keyAgreement, ctx)
    const device = log.state().devices.find((d) => d.peerId === from)
    if (device === undefined) return { t: 'refused', error: 'the recovered device is not a device of the identity' }
    return { t: 'share', index, sealed: sealShare(share, device.x25519, ctx, from) }
  }

  async #ask(peer: string, request: RecoveryRequest): Promise<RecoveryAnswer> {
    const signal = AbortSignal.timeout(this.#init.timeoutMs)
    const stream = await this.#h.net.openStream(peer, RECOVERY_PROTOCOL, { signal })
    try {
      await stream.write(encodeFrame(encode(request)), { signal })
      for await (const frame of readFrames(stream, RECOVERY_FRAME_MAX_BYTES)) {
        await stream.close().catch(() => {})
        return decodeAnswer(frame.subarray())
      }
      throw new InvalidInputError(`${peer} closed the stream without an answer`)
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  readonly #onConnect = (evt: CustomEvent<{ peerId: string }>): void => {
    if (this.#appointments.has(evt.detail.peerId)) void this.#appoint(evt.detail.peerId)
  }

  #fail(session: Session, err: unknown): void {
    session.view.state = 'failed'
    session.view.error = (err as Error).message
    this.#h.log.warn('recovery step failed', { session: session.view.id, error: session.view.error })
    this.#emit(session)
  }

  #emit(session: Session): void {
    this.#h.emit({ ...session.view })
  }
}
