/**
 * The delegation service: rights this node's person gives to other peers ("may keep 10 GiB for me
 * until June"), and rights other people gave this node, as UCAN 1.0 delegations (ucan/).
 *
 * - `grant` signs a delegation from this device for its identity (or passes on, attenuated, one it
 *   holds), keeps it, and sends the chain to the audience over `/lateral/delegation/1.0.0`
 *   (again whenever that peer connects, until it acknowledges).
 * - A received chain is verified before it is kept: every signature, that it is given to this
 *   node, its root issued by a current device of the subject identity (the identity log decides;
 *   the grant carries the granter's identity heads so the log can be fetched), commands only
 *   narrowing, no link by a removed device, no revocation.
 * - `revoke` signs a UCAN revocation, keeps it, sends it to the audience and gossips it on
 *   `/lateral/delegation/revocations/1`. Revocations are kept even before the delegation they name
 *   arrives, and apply to every chain they can concern (ucan/revocation.ts).
 * - Held grants are judged again at each use (`held`), every `sweepIntervalMs`, and when a
 *   revocation arrives; changes go out as `grant:changed` for the services that act on them
 *   (storage drops what it keeps, mailboxes drop what they hold).
 * - A grant of `/msg/deposit` names the audience in the identity's profile as a mailbox, so that
 *   senders find it; revoking it (or its expiry) takes it out again.
 */

import { DELEGATION_FRAME_MAX_BYTES } from '../core/constants.ts'
import type {
  DelegationAuthority,
  GrantChange,
  HeldGrant,
  UsageProvider,
  VerifiedInvocation,
} from '../core/delegations.ts'
import {
  DelegationError,
  InvalidInputError,
  NotFoundError,
  PeerUnreachableError,
  StorageFullError,
} from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import type { IdentityDirectory, IdentityHeads } from '../core/identities.ts'
import type { ComponentLogger, Logger } from '../core/logger.ts'
import type { Startable } from '../core/service.ts'
import { ed25519Did, publicKeyFromPeerId, type Signer } from '../core/signer.ts'
import type { Net, ProtocolStream, PubSubMessage } from '../net/index.ts'
import type { Datastore } from '../store/datastore.ts'
import type { DelegationConfig } from './config.ts'
import { DelegationStore, type GrantRecord } from './store.ts'
import {
  commandCovers,
  createDelegationCache,
  type Delegation,
  identityDid,
  identityIdOfDid,
  identityRootAuthority,
  peerIdOfDid,
  type Revocation,
  removedDeviceCheck,
  revocationCheck,
  signDelegation,
  signInvocation,
  signRevocation,
  type ValidatedChain,
  validateDelegationChain,
  validateInvocation,
  verifyDelegation,
  verifyRevocation,
} from './ucan/index.ts'
import type { DelegationView } from './views.ts'
import {
  DELEGATION_PROTOCOL,
  type DelegationAnswer,
  type DelegationRequest,
  decodeAnswer,
  decodeRequest,
  encodeMessage,
  REVOCATIONS_TOPIC,
} from './wire.ts'

/** The command mailboxes hold: a grant covering it names its audience in the profile. */
const DEPOSIT = '/msg/deposit'
/** The selector Lateral's quotas bound: `["<=", ".size", bytes]` in a delegation's policy. */
const QUOTA_SELECTOR = '.size'

/** What the delegation service uses of the identity service. */
export interface DelegationIdentity extends IdentityDirectory {
  contacts: { resolve(target: string): Promise<{ identity?: string; peerId?: string; contact?: string }> }
  setMailboxes(peers: string[]): Promise<unknown>
}

export interface DelegationComponents {
  net: Net
  datastore: Datastore
  signer: Signer
  logger: ComponentLogger
  identity: DelegationIdentity
}

export interface GrantInput {
  /** A peer ID, a contact name or an identity ID (then each of its current devices). */
  to: string
  /** The command, e.g. `/store/put` (a leading slash is added when missing). */
  can: string
  /** Bytes at most, for commands that keep things (`/store/put`, `/msg/deposit`). */
  quota?: number
  /** Valid until, ms since the epoch. */
  until: number
  /** Valid from, ms since the epoch (default: now). */
  notBefore?: number
  /** The identity whose right it is (default: this node's own); another means passing on a grant held from it. */
  subject?: string
}

export interface DelegationEvents {
  'delegation:granted': CustomEvent<DelegationView>
  'delegation:delivered': CustomEvent<DelegationView>
  'delegation:received': CustomEvent<DelegationView>
  'delegation:revoked': CustomEvent<DelegationView>
  'grant:changed': CustomEvent<GrantChange>
}

type State = DelegationView['state']

export class DelegationService implements DelegationAuthority, Startable {
  readonly #c: DelegationComponents
  readonly #config: DelegationConfig
  readonly #log: Logger
  readonly #store: DelegationStore
  readonly #events = new EventTarget()
  /** Delegations whose envelope and signature were checked: a kept chain is judged again without them. */
  readonly #verified = createDelegationCache()
  /** The state each held grant had when last judged, to report changes once. */
  readonly #lastState = new Map<string, State>()
  readonly #usage = new Map<string, UsageProvider>()
  #timer: ReturnType<typeof setInterval> | undefined
  #running = false

  constructor(components: DelegationComponents, config: DelegationConfig) {
    this.#c = components
    this.#config = config
    this.#log = components.logger.forComponent('lateral:delegation')
    this.#store = new DelegationStore(components.datastore, {
      delegationsMax: config.delegationsMax,
      revocationsMax: config.revocationsMax,
      replayMax: config.replayMax,
      perRevokerMax: config.perRevokerMax,
    })
  }

  async start(): Promise<void> {
    await this.#store.load()
    await this.#c.net.handle(DELEGATION_PROTOCOL, (stream) => this.#serve(stream), {
      maxInboundStreams: 8,
      writeTimeoutMs: this.#config.timeoutMs,
    })
    this.#c.net.pubsub.setValidator(REVOCATIONS_TOPIC, (m) => this.#validateGossip(m))
    this.#c.net.pubsub.subscribe(REVOCATIONS_TOPIC)
    this.#c.net.addEventListener('pubsub:message', this.#onGossip)
    this.#c.net.addEventListener('peer:connect', this.#onConnect)
    this.#running = true
    for (const r of this.#store.received()) this.#lastState.set(r.cid, (await this.#judge(r, 'received')).state)
    this.#timer = setInterval(() => void this.#sweep(), this.#config.sweepIntervalMs)
    this.#timer.unref?.()
  }

  async stop(): Promise<void> {
    this.#running = false
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#c.net.removeEventListener('peer:connect', this.#onConnect)
    this.#c.net.removeEventListener('pubsub:message', this.#onGossip)
    try {
      this.#c.net.pubsub.unsubscribe(REVOCATIONS_TOPIC)
      this.#c.net.pubsub.removeValidator(REVOCATIONS_TOPIC)
    } catch {
      // the network is already stopped
    }
    await this.#c.net.unhandle(DELEGATION_PROTOCOL).catch(() => {})
  }

  // ---- giving ----

  /** Grant `input.can` to `input.to` (each device of a person); returns one view per delegation. */
  async grant(input: GrantInput): Promise<DelegationView[]> {
    const command = normaliseCommand(input.can)
    const now = Date.now()
    if (!Number.isFinite(input.until) || input.until <= now)
      throw new InvalidInputError('"until" must be in the future')
    if (input.notBefore !== undefined && input.notBefore >= input.until) {
      throw new InvalidInputError('"notBefore" must come before "until"')
    }
    if (input.quota !== undefined && (!Number.isSafeInteger(input.quota) || input.quota < 0)) {
      throw new InvalidInputError('"quota" is a number of bytes')
    }
    const self = this.#c.identity.self()
    if (self === '') throw new InvalidInputError('this node has no identity to delegate from')
    const subject = input.subject === undefined ? self : await this.#identityOf(input.subject)
    const proofs = subject === self ? [] : await this.#proofFor(subject, command, input)
    const audiences = await this.#audiences(input.to)
    const views: DelegationView[] = []
    for (const peer of audiences) {
      const delegation = await signDelegation(this.#c.signer, {
        aud: ed25519Did(publicKeyFromPeerId(peer)),
        sub: identityDid(subject),
        cmd: command,
        pol: input.quota === undefined ? [] : [['<=', QUOTA_SELECTOR, input.quota]],
        ...(input.notBefore === undefined ? {} : { nbf: Math.floor(input.notBefore / 1000) }),
        exp: Math.floor(input.until / 1000),
      })
      const chain = [...proofs, delegation]
      await this.#store.putTokens(chain)
      const record: GrantRecord = {
        cid: delegation.cid,
        chain: chain.map((d) => d.cid),
        peer,
        at: now,
        delivered: false,
      }
      await this.#store.putGiven(record)
      if (subject === self && commandCovers(command, DEPOSIT)) await this.#updateMailboxes({ add: peer })
      const view = await this.#view(record, 'given')
      this.#emit('delegation:granted', view)
      views.push(view)
      void this.#deliver(record)
    }
    return views
  }

  /** Revoke a delegation this node gave (or passed on). */
  async revoke(cid: string): Promise<DelegationView> {
    const record = this.#store.givenRecord(cid)
    if (record === undefined) throw new NotFoundError(`this node gave no delegation ${cid}`)
    const path = this.#chainOf(record)
    const revocation = await signRevocation(this.#c.signer, path)
    await this.#store.putRevocation(revocation)
    const view = await this.#view(record, 'given')
    this.#emit('delegation:revoked', view)
    const sub = path[0]?.payload.sub
    if (sub === identityDid(this.#c.identity.self()) && commandCovers(view.command, DEPOSIT)) {
      await this.#updateMailboxes({ remove: record.peer })
    }
    void this.#spreadRevocation(revocation, record.peer)
    return view
  }

  async list(filter?: 'given' | 'received'): Promise<DelegationView[]> {
    const out: DelegationView[] = []
    if (filter !== 'received') for (const r of this.#store.given()) out.push(await this.#view(r, 'given'))
    if (filter !== 'given') for (const r of this.#store.received()) out.push(await this.#view(r, 'received'))
    return out.sort((a, b) => b.at - a.at)
  }

  async show(cid: string): Promise<DelegationView> {
    const given = this.#store.givenRecord(cid)
    if (given !== undefined) return this.#view(given, 'given')
    const received = this.#store.receivedRecord(cid)
    if (received !== undefined) return this.#view(received, 'received')
    throw new NotFoundError(`no delegation ${cid} here`)
  }

  // ---- the authority other services ask ----

  async held(subject: string, command: string): Promise<HeldGrant | undefined> {
    let best: HeldGrant | undefined
    for (const record of this.#store.received()) {
      const chain = this.#chainOf(record)
      const last = chain.at(-1) as Delegation
      if (last.payload.sub !== identityDid(subject) || !commandCovers(last.payload.cmd, command)) continue
      const judged = await this.#judge(record, 'received')
      if (judged.state !== 'active' || judged.validated === undefined) continue
      const grant = heldGrant(record, judged.validated)
      const better =
        best === undefined ||
        (grant.quota ?? Number.POSITIVE_INFINITY) > (best.quota ?? Number.POSITIVE_INFINITY) ||
        ((grant.quota ?? Number.POSITIVE_INFINITY) === (best.quota ?? Number.POSITIVE_INFINITY) &&
          grant.expiresAt > best.expiresAt)
      if (better) best = grant
    }
    return best
  }

  async lapsed(subject: string, command: string): Promise<GrantChange[]> {
    const out: GrantChange[] = []
    for (const record of this.#store.received()) {
      const last = this.#chainOf(record).at(-1) as Delegation
      if (last.payload.sub !== identityDid(subject) || !commandCovers(last.payload.cmd, command)) continue
      const judged = await this.#judge(record, 'received')
      if (judged.state === 'active' || judged.state === 'pending') continue
      out.push(change(record, last, judged.state, judged.reason))
    }
    return out
  }

  async invoke(audience: string, command: string, args: Record<string, unknown>): Promise<Uint8Array> {
    const self = this.#c.identity.self()
    if (self === '') throw new InvalidInputError('this node has no identity to act for')
    const now = Math.floor(Date.now() / 1000)
    const invocation = await signInvocation(this.#c.signer, {
      sub: identityDid(self),
      aud: ed25519Did(publicKeyFromPeerId(audience)),
      cmd: normaliseCommand(command),
      args,
      prf: [],
      exp: now + this.#config.invocationTtlS,
    })
    return invocation.bytes
  }

  async verifyInvocation(bytes: Uint8Array, command: string): Promise<VerifiedInvocation> {
    const validated = await validateInvocation(bytes, {
      proofs: (cid) => this.#store.token(cid),
      replay: this.#store.replay,
      executor: this.#c.signer.did,
      skewSeconds: this.#config.clockSkewS,
      ...this.#hooks(),
    })
    const { invocation, subject } = validated
    const p = invocation.payload
    if (!commandCovers(normaliseCommand(command), p.cmd)) {
      throw new DelegationError(`invocation ${invocation.cid} asks for ${p.cmd}, not ${command}`, 'InvalidClaim', {
        link: 'invocation',
        cid: invocation.cid,
      })
    }
    const identity = identityIdOfDid(subject)
    if (identity === undefined) {
      throw new DelegationError(`invocation ${invocation.cid} is not for an identity`, 'InvalidSubject', {
        link: 'invocation',
        cid: invocation.cid,
      })
    }
    return {
      cid: invocation.cid,
      issuer: peerIdOfDid(p.iss),
      subject: identity,
      command: p.cmd,
      args: p.args as Record<string, unknown>,
      expiresAt: (p.exp ?? 0) * 1000,
    }
  }

  provideUsage(command: string, provider: UsageProvider): void {
    this.#usage.set(normaliseCommand(command), provider)
  }

  addEventListener<K extends keyof DelegationEvents>(type: K, listener: (evt: DelegationEvents[K]) => void): void {
    this.#events.addEventListener(type, listener as (evt: Event) => void)
  }

  removeEventListener<K extends keyof DelegationEvents>(type: K, listener: (evt: DelegationEvents[K]) => void): void {
    this.#events.removeEventListener(type, listener as (evt: Event) => void)
  }

  // ---- judging ----

  #hooks() {
    const identity = this.#c.identity
    return {
      verified: this.#verified,
      rootAuthority: identityRootAuthority(identity),
      isDeviceRevoked: removedDeviceCheck(identity),
      isRevoked: revocationCheck((cid) => this.#store.revocationsOf(cid), {
        rootAuthority: identityRootAuthority(identity),
      }),
    }
  }

  #chainOf(record: GrantRecord): Delegation[] {
    return record.chain.map((cid) => {
      const known = this.#verified.get(cid)
      if (known !== undefined) return known
      const bytes = this.#store.token(cid)
      if (bytes === undefined) throw new NotFoundError(`delegation ${cid} of a kept chain is missing`)
      const delegation = verifyDelegation(bytes)
      this.#verified.set(delegation)
      return delegation
    })
  }

  async #judge(
    record: GrantRecord,
    direction: 'given' | 'received',
  ): Promise<{ state: State; reason?: string; validated?: ValidatedChain }> {
    const chain = record.chain.map((cid) => this.#store.token(cid) as Uint8Array)
    const audience = ed25519Did(publicKeyFromPeerId(direction === 'given' ? record.peer : this.#c.signer.peerId))
    try {
      const validated = await validateDelegationChain(chain, {
        audience,
        skewSeconds: this.#config.clockSkewS,
        ...this.#hooks(),
      })
      return { state: 'active', validated }
    } catch (err) {
      if (!(err instanceof DelegationError)) throw err
      const state: State =
        err.code === 'Expired'
          ? 'expired'
          : err.code === 'TooEarly'
            ? 'pending'
            : err.code === 'Revoked' || err.code === 'DeviceRemoved'
              ? 'revoked'
              : 'invalid'
      return { state, reason: err.message }
    }
  }

  async #view(record: GrantRecord, direction: 'given' | 'received'): Promise<DelegationView> {
    const chain = this.#chainOf(record)
    const last = chain.at(-1) as Delegation
    const judged = await this.#judge(record, direction)
    const quota = quotaOf(chain)
    const nbfs = chain.flatMap((d) => (d.payload.nbf === undefined ? [] : [d.payload.nbf]))
    const exps = chain.flatMap((d) => (d.payload.exp === null ? [] : [d.payload.exp]))
    const view: DelegationView = {
      cid: record.cid,
      direction,
      issuer: peerIdOfDid(last.payload.iss),
      audience: peerIdOfDid(last.payload.aud),
      subject: identityIdOfDid(last.payload.sub ?? '') ?? last.payload.sub ?? '',
      command: last.payload.cmd,
      expiresAt: Math.min(...exps) * 1000,
      state: judged.state,
      chain: record.chain,
      at: record.at,
    }
    if (quota !== undefined) view.quota = quota
    const usage = this.#usage.get(view.command)
    const used = direction === 'received' ? usage?.held?.(view.subject) : usage?.placed?.(view.audience)
    if (used !== undefined) view.used = used
    if (nbfs.length > 0) view.notBefore = Math.max(...nbfs) * 1000
    if (judged.reason !== undefined) view.reason = judged.reason
    if (direction === 'given') view.delivered = record.delivered === true
    return view
  }

  /** Judge every held grant again; report the ones whose state changed; resend undelivered grants. */
  async #sweep(): Promise<void> {
    if (!this.#running) return
    try {
      for (const record of this.#store.received()) {
        const judged = await this.#judge(record, 'received')
        if (this.#lastState.get(record.cid) === judged.state) continue
        this.#lastState.set(record.cid, judged.state)
        const last = this.#chainOf(record).at(-1) as Delegation
        this.#emit('grant:changed', change(record, last, judged.state, judged.reason))
      }
      const connected = new Set((await this.#c.net.connections()).map((c) => c.peerId))
      for (const record of this.#store.given()) {
        if (record.delivered !== true && connected.has(record.peer)) void this.#deliver(record)
      }
      await this.#expireMailboxes()
    } catch (err) {
      this.#log.warn('delegation sweep failed', { error: (err as Error).message })
    }
  }

  // ---- the wire ----

  async #deliver(record: GrantRecord): Promise<void> {
    try {
      const heads = this.#c.identity.ownHeads()
      const chain = record.chain.map((cid) => this.#store.token(cid) as Uint8Array)
      const answer = await this.#ask(record.peer, { t: 'grant', chain, ...(heads === undefined ? {} : { heads }) })
      if (answer.t === 'ok') {
        const delivered = { ...record, delivered: true }
        await this.#store.putGiven(delivered)
        this.#log.info('grant delivered', { cid: record.cid, to: record.peer })
        this.#emit('delegation:delivered', await this.#view(delivered, 'given'))
      } else {
        this.#log.warn('grant refused by its audience', { cid: record.cid, to: record.peer, error: answer.error })
      }
    } catch (err) {
      this.#log.debug('grant not delivered yet', { cid: record.cid, to: record.peer, error: (err as Error).message })
    }
  }

  async #spreadRevocation(revocation: Revocation, audience: string): Promise<void> {
    try {
      await this.#c.net.pubsub.publish(REVOCATIONS_TOPIC, revocation.bytes)
    } catch (err) {
      this.#log.debug('revocation not gossiped', { error: (err as Error).message })
    }
    try {
      await this.#ask(audience, { t: 'revoke', revocation: revocation.bytes })
    } catch (err) {
      this.#log.debug('revocation not sent to the audience', { to: audience, error: (err as Error).message })
    }
  }

  async #ask(peer: string, request: DelegationRequest): Promise<DelegationAnswer> {
    const signal = AbortSignal.timeout(this.#config.timeoutMs)
    let stream: ProtocolStream
    try {
      stream = await this.#c.net.openStream(peer, DELEGATION_PROTOCOL, { signal })
    } catch (err) {
      throw new PeerUnreachableError(`cannot reach ${peer}: ${(err as Error).message}`)
    }
    try {
      await stream.write(encodeFrame(encodeMessage(request)), { signal })
      for await (const frame of readFrames(stream, DELEGATION_FRAME_MAX_BYTES)) {
        await stream.close().catch(() => {})
        return decodeAnswer(frame.subarray())
      }
      throw new InvalidInputError(`${peer} closed the stream without an answer`)
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  async #serve(stream: ProtocolStream): Promise<void> {
    const from = stream.remotePeer
    let answer: DelegationAnswer
    try {
      let request: DelegationRequest | undefined
      for await (const frame of readFrames(stream, DELEGATION_FRAME_MAX_BYTES)) {
        request = decodeRequest(frame.subarray())
        break
      }
      if (request === undefined) return
      answer =
        request.t === 'grant'
          ? await this.#receiveGrant(from, request)
          : await this.#receiveRevocation(request.revocation)
    } catch (err) {
      if (err instanceof InvalidInputError) this.#c.net.penalize(from, 1, `bad delegation request: ${err.message}`)
      answer = {
        t: 'refused',
        code: err instanceof DelegationError ? err.code : (err as Error).name,
        error: (err as Error).message,
      }
    }
    try {
      await stream.write(encodeFrame(encodeMessage(answer)))
      await stream.close()
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  async #receiveGrant(
    from: string,
    request: { chain: Uint8Array[]; heads?: IdentityHeads },
  ): Promise<DelegationAnswer> {
    const chain = request.chain.map((bytes, i) => verifyDelegation(bytes, { link: i }))
    const last = chain.at(-1) as Delegation
    if (last.payload.aud !== this.#c.signer.did) {
      throw new DelegationError('this grant is for another peer', 'InvalidAudience', {
        link: chain.length - 1,
        cid: last.cid,
      })
    }
    const subject = identityIdOfDid(chain[0]?.payload.sub ?? '')
    if (subject === undefined) throw new DelegationError('Lateral grants are for identities', 'InvalidSubject')
    if (this.#c.identity.devicesOf(subject) === undefined) {
      if (request.heads !== undefined) this.#c.identity.observeHeads(from, request.heads, from)
      await this.#waitForLog(subject)
    }
    // Time does not matter here (a grant may start later): structure, signatures, authority, revocations.
    await validateDelegationChain(request.chain, {
      audience: this.#c.signer.did,
      checkTime: false,
      skewSeconds: this.#config.clockSkewS,
      ...this.#hooks(),
    })
    if (this.#store.receivedRecord(last.cid) !== undefined) return { t: 'ok' }
    const fromSubject = this.#store
      .received()
      .filter((r) => this.#chainOf(r)[0]?.payload.sub === chain[0]?.payload.sub).length
    if (fromSubject >= this.#config.perSubjectMax) {
      throw new StorageFullError(
        `identity ${subject} has ${this.#config.perSubjectMax} grants kept here already (delegation.perSubjectMax)`,
      )
    }
    await this.#store.putTokens(chain)
    const record: GrantRecord = { cid: last.cid, chain: chain.map((d) => d.cid), peer: from, at: Date.now() }
    await this.#store.putReceived(record)
    const view = await this.#view(record, 'received')
    this.#lastState.set(record.cid, view.state)
    this.#log.info('grant received', { cid: record.cid, from, command: view.command, subject })
    this.#emit('delegation:received', view)
    this.#emit('grant:changed', change(record, last, view.state, view.reason))
    return { t: 'ok' }
  }

  async #receiveRevocation(bytes: Uint8Array): Promise<DelegationAnswer> {
    const revocation = verifyRevocation(bytes)
    if (await this.#store.putRevocation(revocation)) {
      this.#log.info('revocation received', { revoked: revocation.revoked, by: revocation.revoker })
      await this.#sweep()
    }
    return { t: 'ok' }
  }

  async #waitForLog(subject: string): Promise<void> {
    const deadline = Date.now() + this.#config.logWaitMs
    while (this.#c.identity.devicesOf(subject) === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  #validateGossip(m: PubSubMessage): 'accept' | 'reject' | 'ignore' {
    try {
      verifyRevocation(m.data)
      return 'accept'
    } catch (err) {
      this.#c.net.penalize(m.propagationSource, 1, `invalid revocation: ${(err as Error).message}`)
      return 'reject'
    }
  }

  readonly #onGossip = (evt: CustomEvent<PubSubMessage>): void => {
    const m = evt.detail
    if (m.topic !== REVOCATIONS_TOPIC) return
    void this.#receiveRevocation(m.data).catch((err) =>
      this.#log.debug('revocation not kept', { error: (err as Error).message }),
    )
  }

  readonly #onConnect = (evt: CustomEvent<{ peerId: string }>): void => {
    for (const record of this.#store.given()) {
      if (record.peer === evt.detail.peerId && record.delivered !== true) void this.#deliver(record)
    }
  }

  // ---- helpers ----

  async #audiences(to: string): Promise<string[]> {
    const target = await this.#c.identity.contacts.resolve(to)
    if (target.identity !== undefined) {
      const devices = this.#c.identity.devicesOf(target.identity)
      if (devices === undefined || devices.length === 0) {
        throw new InvalidInputError(`the devices of ${to} are not known here yet: connect to one of them first`)
      }
      return devices
    }
    const peer = target.peerId ?? to
    publicKeyFromPeerId(peer) // InvalidInputError for anything but an Ed25519 peer ID
    if (peer === this.#c.signer.peerId) throw new InvalidInputError('a grant to this node itself means nothing')
    return [peer]
  }

  async #identityOf(target: string): Promise<string> {
    const resolved = await this.#c.identity.contacts.resolve(target)
    if (resolved.identity === undefined) throw new InvalidInputError(`${target} is not an identity ID or a contact`)
    return resolved.identity
  }

  /** Passing on a grant: the chain held from `subject` that covers `command`, within which `input` must fit. */
  async #proofFor(subject: string, command: string, input: GrantInput): Promise<Delegation[]> {
    const held = await this.held(subject, command)
    if (held === undefined) {
      throw new InvalidInputError(`this node holds no valid grant of ${command} from identity ${subject} to pass on`)
    }
    if (input.quota === undefined && held.quota !== undefined) {
      throw new InvalidInputError(`the grant held allows at most ${held.quota} bytes: pass on a quota within it`)
    }
    if (input.quota !== undefined && held.quota !== undefined && input.quota > held.quota) {
      throw new InvalidInputError(`the grant held allows at most ${held.quota} bytes, not ${input.quota}`)
    }
    if (input.until > held.expiresAt) {
      throw new InvalidInputError(`the grant held ends at ${new Date(held.expiresAt).toISOString()}: pass on no more`)
    }
    return this.#chainOf(this.#store.receivedRecord(held.cid) as GrantRecord)
  }

  /** Name a mailbox in (or take it out of) the profile; only peers this device granted are taken out. */
  async #updateMailboxes(change: { add?: string; remove?: string }): Promise<void> {
    const current = this.#c.identity.mailboxesOf(this.#c.identity.self()) ?? []
    let next = current
    if (change.add !== undefined && !current.includes(change.add)) next = [...current, change.add]
    if (change.remove !== undefined) {
      const stillGranted = (await this.#activeDepositGrants()).has(change.remove)
      if (!stillGranted) next = next.filter((p) => p !== change.remove)
    }
    if (next.length > 8) next = next.slice(-8)
    if (next.length === current.length && next.every((p) => current.includes(p))) return
    await this.#c.identity.setMailboxes(next)
  }

  async #activeDepositGrants(): Promise<Set<string>> {
    const out = new Set<string>()
    const own = identityDid(this.#c.identity.self())
    for (const record of this.#store.given()) {
      const last = this.#chainOf(record).at(-1) as Delegation
      if (last.payload.sub !== own || !commandCovers(last.payload.cmd, DEPOSIT)) continue
      const judged = await this.#judge(record, 'given')
      if (judged.state === 'active' || judged.state === 'pending') out.add(record.peer)
    }
    return out
  }

  /** Mailboxes this device named whose every grant ended are taken out of the profile. */
  async #expireMailboxes(): Promise<void> {
    const self = this.#c.identity.self()
    if (self === '') return
    const current = this.#c.identity.mailboxesOf(self) ?? []
    if (current.length === 0) return
    const active = await this.#activeDepositGrants()
    const mine = new Set(this.#store.given().map((r) => r.peer))
    const next = current.filter((p) => active.has(p) || !mine.has(p))
    if (next.length !== current.length) await this.#c.identity.setMailboxes(next)
  }

  #emit<K extends keyof DelegationEvents>(type: K, detail: DelegationEvents[K]['detail']): void {
    this.#events.dispatchEvent(new CustomEvent(type, { detail }))
  }
}

function normaliseCommand(can: string): string {
  const command = can.startsWith('/') ? can : `/${can}`
  if (!/^\/([a-z0-9_-]+(\/[a-z0-9_-]+)*)?$/.test(command)) {
    throw new InvalidInputError(`"${can}" is not a command (lowercase segments: store/put, msg/deposit)`)
  }
  return command
}

/** The smallest `["<=", ".size", n]` of the chain's policies: Lateral's quotas. */
function quotaOf(chain: readonly Delegation[]): number | undefined {
  let quota: number | undefined
  for (const d of chain) {
    for (const statement of d.payload.pol) {
      if (!Array.isArray(statement) || statement.length !== 3) continue
      const [op, selector, value] = statement
      if (op === '<=' && selector === QUOTA_SELECTOR && typeof value === 'number') {
        quota = quota === undefined ? value : Math.min(quota, value)
      }
    }
  }
  return quota
}

function heldGrant(record: GrantRecord, validated: ValidatedChain): HeldGrant {
  const last = validated.chain.at(-1) as Delegation
  const grant: HeldGrant = {
    cid: record.cid,
    subject: identityIdOfDid(validated.subject) ?? validated.subject,
    command: validated.command,
    issuer: peerIdOfDid(last.payload.iss),
    expiresAt: (validated.expiresAt ?? Number.MAX_SAFE_INTEGER / 1000) * 1000,
  }
  const quota = quotaOf(validated.chain)
  if (quota !== undefined) grant.quota = quota
  if (validated.notBefore !== undefined) grant.notBefore = validated.notBefore * 1000
  return grant
}

function change(record: GrantRecord, last: Delegation, state: State, reason?: string): GrantChange {
  const out: GrantChange = {
    cid: record.cid,
    subject: identityIdOfDid(last.payload.sub ?? '') ?? '',
    command: last.payload.cmd,
    state: state === 'pending' || state === 'active' ? 'active' : state === 'invalid' ? 'revoked' : state,
  }
  if (reason !== undefined) out.reason = reason
  return out
}
