/**
 * A man in the middle of a pairing: a relay between the old and the new device that reads every
 * pairing message and rewrites, substitutes, replays or reorders them. The people act as a script
 * does: each side's confirmation compares its own short string with the one the other screen
 * shows. Whatever the relay does, it never gets both screens to show the same string: a pairing
 * through it fails a check, or shows two different strings and is refused on both sides, and no
 * payload crosses. A pass-through relay (control) must still let an honest pairing complete, so
 * the failures are the rewriting's doing and not the harness's.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { randomBytes } from '../src/core/crypto.ts'
import { encodeFrame } from '../src/core/framing.ts'
import type { DeviceSigner } from '../src/identity/device-signer.ts'
import { BoundedFrames } from '../src/identity/pairing/frames.ts'
import {
  type ConfirmShortString,
  decodePairingCode,
  type InvitationResult,
  type PairingStream,
  type PairResult,
  pair,
  sameShortString,
} from '../src/identity/pairing/index.ts'
import { decodeMessage, encodeMessage, type PairingMessage } from '../src/identity/pairing/messages.ts'
import { commitmentOf, keyConfirmationOf, NONCE_BYTES, transcriptHashOf } from '../src/identity/pairing/transcript.ts'
import { duplexPair, type TestStream } from './helpers/pairing-duplex.ts'
import {
  inviteOptions,
  messageTypes,
  type NewDevice,
  newDevice,
  newDeviceResponder,
  pairOptions,
  reason,
  record,
  type SideRecord,
  stopResponders,
} from './helpers/pairing-fixture.ts'

type Rewrite = (message: PairingMessage) => PairingMessage[] | Promise<PairingMessage[]>
const MAX = 1 << 20
const pass: Rewrite = (m) => [m]

/** Relay messages from `from` to `to` through `rewrite`; end `to` when `from` ends. */
async function pump(from: PairingStream, to: PairingStream, rewrite: Rewrite): Promise<void> {
  const frames = new BoundedFrames()
  try {
    for await (const chunk of from) {
      frames.push(chunk)
      for (let frame = frames.next(MAX); frame !== undefined; frame = frames.next(MAX)) {
        for (const m of await rewrite(decodeMessage(frame, MAX))) await to.write(encodeFrame(encodeMessage(m)))
      }
    }
    await to.close()
  } catch (err) {
    to.abort(err as Error)
  }
}

/** Two people reading each other's screens: each confirms only if the other screen shows the same string. */
function people() {
  const shown = { old: Promise.withResolvers<string>(), new: Promise.withResolvers<string>() }
  const confirm =
    (side: 'old' | 'new', rec: SideRecord): ConfirmShortString =>
    async (mine, { signal }) => {
      rec.shown.push(mine)
      shown[side].resolve(mine)
      const other = shown[side === 'old' ? 'new' : 'old'].promise
      // The other screen shows nothing while its device is stuck or failed: after a while, no.
      const nothing = new Promise<undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 500)
        signal.addEventListener('abort', () => clearTimeout(timer))
      })
      const theirs = await Promise.race([other, nothing])
      return theirs !== undefined && sameShortString(mine, theirs)
    }
  /** The other side's pairing ended without a string: its screen will never show one. */
  const ended = (side: 'old' | 'new') => shown[side].resolve('')
  return { confirm, ended }
}

interface Outcome {
  initiator: PromiseSettledResult<PairResult>
  responder: PromiseSettledResult<InvitationResult>
  oldSide: SideRecord
  newSide: SideRecord
  /** Everything the honest ends wrote. */
  oldStream: TestStream
  newStream: TestStream
}

interface Scenario {
  /** What each honest end is told its remote peer is: `honest` = the relay's own peer ID; `lying` = the device it hoped for. */
  labels: 'honest' | 'lying'
  toR: (ctx: RelayContext) => Rewrite
  toI: (ctx: RelayContext) => Rewrite
  /** The new device's person confirms without looking at the other screen. */
  carelessNew?: boolean
}

interface RelayContext {
  oldDevice: DeviceSigner
  created: NewDevice
  relay: DeviceSigner
  /** The code's secret as the relay saw it (a leaked code: shown on a screen the relay could read). */
  secret: Uint8Array
  /** Send a message of the relay's own, out of turn. */
  send: { toR: (m: PairingMessage) => Promise<void>; toI: (m: PairingMessage) => Promise<void> }
}

async function throughRelay(scenario: Scenario): Promise<Outcome> {
  const created = newDeviceResponder({ confirmTimeoutMs: 3_000, stepTimeoutMs: 2_000 })
  const oldDevice = newDevice()
  const relay = newDevice()
  const oldSide = record()
  const screens = people()
  const newConfirm = screens.confirm('new', created.side)
  const invitation = created.responder.invite(
    inviteOptions(
      created.side,
      scenario.carelessNew === true
        ? (shown, options) => {
            void newConfirm(shown, options)
            return true
          }
        : newConfirm,
    ),
  )
  const lying = scenario.labels === 'lying'
  // Lying labels: the old device believes it reached the new one, the new device that the old one dialled it.
  const [oldEnd, relayFacingOld] = duplexPair(
    oldDevice.peerId,
    relay.peerId,
    lying ? { aSees: created.signer.peerId } : {},
  )
  const [relayFacingNew, newEnd] = duplexPair(
    relay.peerId,
    created.signer.peerId,
    lying ? { bSees: oldDevice.peerId } : {},
  )
  const write = (to: PairingStream) => async (m: PairingMessage) => {
    try {
      await to.write(encodeFrame(encodeMessage(m)))
    } catch {
      // that end has gone
    }
  }
  const ctx: RelayContext = {
    oldDevice,
    created,
    relay,
    secret: decodePairingCode(invitation.code).secret,
    send: { toR: write(relayFacingNew), toI: write(relayFacingOld) },
  }
  const relaying = Promise.all([
    pump(relayFacingOld, relayFacingNew, scenario.toR(ctx)),
    pump(relayFacingNew, relayFacingOld, scenario.toI(ctx)),
  ])
  const handled = created.responder.handle(newEnd)
  const options = pairOptions(oldDevice, invitation.code, oldSide, screens.confirm('old', oldSide), {
    confirmTimeoutMs: 3_000,
    stepTimeoutMs: 2_000,
  })
  const result = invitation.result.finally(() => screens.ended('new'))
  const paired = pair(oldEnd, options).finally(() => screens.ended('old'))
  await handled
  // The new device's one stream is done: a code it never got to claim stays waiting; stop it.
  if (created.responder.waiting() > 0) created.responder.stop()
  const [initiator, responder] = await Promise.allSettled([paired, result])
  oldEnd.abort(new Error('test over'))
  newEnd.abort(new Error('test over'))
  await relaying
  created.responder.stop()
  return { initiator, responder, oldSide, newSide: created.side, oldStream: oldEnd, newStream: newEnd }
}

/** Nothing crossed, and the two screens never showed the same string. */
function assertDefeated(o: Outcome): void {
  assert.equal(o.initiator.status, 'rejected', 'the old device did not complete')
  assert.equal(o.responder.status, 'rejected', 'the new device did not complete')
  const oldShown = o.oldSide.shown[0]
  const newShown = o.newSide.shown[0]
  if (oldShown !== undefined && newShown !== undefined) {
    assert.ok(!sameShortString(oldShown, newShown), `both screens showed ${oldShown}`)
  }
  assert.deepEqual([...o.oldSide.payloadsMade, ...o.newSide.payloadsMade], [], 'no payload was made')
  for (const s of [o.oldStream, o.newStream]) {
    assert.ok(!messageTypes(s.written).some((t) => ['offer', 'join', 'welcome'].includes(t)), 'no payload was sent')
  }
}

/**
 * What a relay on the path learns and needs to keep both legs consistent: each leg's transcript
 * (the keys are the honest ones: a relay that can forge the transport's peer IDs needs no key of
 * its own) and, knowing the secret, the MACs of each leg recomputed.
 */
class Legs {
  codeId: Uint8Array = new Uint8Array(0)
  /** Nonces each honest device revealed, and the relay's own toward each. */
  iNonce: Uint8Array = new Uint8Array(0)
  rNonce: Uint8Array = new Uint8Array(0)
  towardR: Uint8Array = randomBytes(NONCE_BYTES)
  towardI: Uint8Array = randomBytes(NONCE_BYTES)
  readonly #ctx: RelayContext
  readonly #secret: Uint8Array

  constructor(ctx: RelayContext, knowsSecret: boolean) {
    this.#ctx = ctx
    this.#secret = knowsSecret ? ctx.secret : randomBytes(16)
  }

  /** The transcript the old device computes (it saw the relay's nonce as the new device's). */
  get iTranscript(): Uint8Array {
    return this.#transcript(this.iNonce, this.towardI)
  }

  /** The transcript the new device computes. */
  get rTranscript(): Uint8Array {
    return this.#transcript(this.towardR, this.rNonce)
  }

  #transcript(iNonce: Uint8Array, rNonce: Uint8Array): Uint8Array {
    return transcriptHashOf({
      codeId: this.codeId,
      initiatorKey: this.#ctx.oldDevice.publicKey,
      initiatorNonce: iNonce,
      responderKey: this.#ctx.created.signer.publicKey,
      responderNonce: rNonce,
    })
  }

  /** Rewrite a MAC-carrying message for the leg it goes to. */
  remac(m: PairingMessage, toward: 'R' | 'I'): PairingMessage {
    const role = toward === 'R' ? 'initiator' : 'responder'
    const th = toward === 'R' ? this.rTranscript : this.iTranscript
    if (m.t === 'mac') return { t: 'mac', mac: keyConfirmationOf(this.#secret, th, role) }
    if (m.t === 'confirm') return { t: 'confirm', mac: keyConfirmationOf(this.#secret, th, role, 'confirmed') }
    return m
  }
}

/** The relay's own nonces, committed to under the honest keys, with MACs recomputed. */
function nonceSubstitution(knowsSecret: boolean): Pick<Scenario, 'toR' | 'toI'> {
  let legs: Legs | undefined
  const of = (ctx: RelayContext) => {
    legs ??= new Legs(ctx, knowsSecret)
    return legs
  }
  return {
    toR: (ctx) => (m) => {
      const l = of(ctx)
      if (m.t === 'hello') {
        l.codeId = m.code
        return [{ t: 'hello', code: m.code, commit: commitmentOf('initiator', ctx.oldDevice.publicKey, l.towardR) }]
      }
      if (m.t === 'reveal') {
        l.iNonce = m.nonce
        return [{ t: 'reveal', key: m.key, nonce: l.towardR }]
      }
      return [l.remac(m, 'R')]
    },
    toI: (ctx) => (m) => {
      const l = of(ctx)
      if (m.t === 'commit') {
        return [{ t: 'commit', commit: commitmentOf('responder', ctx.created.signer.publicKey, l.towardI) }]
      }
      if (m.t === 'reveal') {
        l.rNonce = m.nonce
        return [{ t: 'reveal', key: m.key, nonce: l.towardI }]
      }
      return [l.remac(m, 'I')]
    },
  }
}

/**
 * A relay that knows the secret and orders the legs to its advantage: it learns one honest
 * nonce before it has to commit on the other leg, and reuses it there. `learnFrom` says which
 * device's nonce it waits for. The commitment it already had to make on the other leg is what
 * keeps the transcripts apart.
 */
function adaptive(learnFrom: 'new' | 'old'): Pick<Scenario, 'toR' | 'toI'> {
  let legs: Legs | undefined
  const of = (ctx: RelayContext) => {
    legs ??= new Legs(ctx, true)
    return legs
  }
  if (learnFrom === 'new') {
    // Hello on to the new device under the relay's nonce; reveal to it at once on its commitment;
    // then commit toward the old device to the new device's own nonce, and reveal it.
    return {
      toR: (ctx) => (m) => {
        const l = of(ctx)
        if (m.t === 'hello') {
          l.codeId = m.code
          return [{ t: 'hello', code: m.code, commit: commitmentOf('initiator', ctx.oldDevice.publicKey, l.towardR) }]
        }
        if (m.t === 'reveal') {
          l.iNonce = m.nonce
          return [] // the relay revealed its own toward the new device already
        }
        return [l.remac(m, 'R')]
      },
      toI: (ctx) => (m) => {
        const l = of(ctx)
        if (m.t === 'commit') {
          void ctx.send.toR({ t: 'reveal', key: ctx.oldDevice.publicKey, nonce: l.towardR })
          return []
        }
        if (m.t === 'reveal') {
          l.rNonce = m.nonce
          l.towardI = m.nonce
          return [
            { t: 'commit', commit: commitmentOf('responder', m.key, m.nonce) },
            { t: 'reveal', key: m.key, nonce: m.nonce },
          ]
        }
        return [l.remac(m, 'I')]
      },
    }
  }
  // Commit toward the old device first and learn its nonce; then start the new device's leg
  // committed to the old device's nonce, which the new device's reveal follows.
  return {
    toR: (ctx) => (m) => {
      const l = of(ctx)
      if (m.t === 'hello') {
        l.codeId = m.code
        void ctx.send.toI({ t: 'commit', commit: commitmentOf('responder', ctx.created.signer.publicKey, l.towardI) })
        return []
      }
      if (m.t === 'reveal') {
        l.iNonce = m.nonce
        l.towardR = m.nonce
        return [{ t: 'hello', code: l.codeId, commit: commitmentOf('initiator', m.key, m.nonce) }]
      }
      return [l.remac(m, 'R')]
    },
    toI: (ctx) => (m) => {
      const l = of(ctx)
      if (m.t === 'commit') {
        void ctx.send.toR({ t: 'reveal', key: ctx.oldDevice.publicKey, nonce: l.towardR })
        return []
      }
      if (m.t === 'reveal') {
        l.rNonce = m.nonce
        return [{ t: 'reveal', key: m.key, nonce: l.towardI }]
      }
      return [l.remac(m, 'I')]
    },
  }
}

describe('pairing through a man in the middle', { timeout: 60_000 }, () => {
  after(stopResponders)

  it('control: a relay that passes everything on lets an honest pairing complete with one string', async () => {
    const o = await throughRelay({ labels: 'lying', toR: () => pass, toI: () => pass })
    assert.equal(o.initiator.status, 'fulfilled', o.initiator.status === 'rejected' ? String(o.initiator.reason) : '')
    assert.equal(o.responder.status, 'fulfilled')
    assert.ok(sameShortString(o.oldSide.shown[0] ?? '', o.newSide.shown[0] ?? ''))
  })

  it('a relay that substitutes its own key and nonces (knowing the secret) is refused by the old device at once', async () => {
    const own = (ctx: RelayContext, role: 'initiator' | 'responder') => {
      const nonce = randomBytes(NONCE_BYTES)
      return (m: PairingMessage): PairingMessage[] => {
        if (m.t === 'hello')
          return [{ t: 'hello', code: m.code, commit: commitmentOf(role, ctx.relay.publicKey, nonce) }]
        if (m.t === 'commit') return [{ t: 'commit', commit: commitmentOf(role, ctx.relay.publicKey, nonce) }]
        if (m.t === 'reveal') return [{ t: 'reveal', key: ctx.relay.publicKey, nonce }]
        return [m]
      }
    }
    const o = await throughRelay({
      labels: 'honest',
      toR: (ctx) => own(ctx, 'initiator'),
      toI: (ctx) => own(ctx, 'responder'),
    })
    assertDefeated(o)
    assert.equal(reason(o.initiator).name, 'PairingVerificationError')
    assert.match(reason(o.initiator).message, /not to the code's device/)
    assert.deepEqual(o.oldSide.shown, [], 'the old device never showed a string')
  })

  it('a relay with the leaked secret and a forged transport, substituting nonces and commitments: two different strings, refused on both sides', async () => {
    const o = await throughRelay({ labels: 'lying', ...nonceSubstitution(true) })
    assert.equal(o.oldSide.shown.length, 1, 'the old device showed a string')
    assert.equal(o.newSide.shown.length, 1, 'the new device showed a string')
    assertDefeated(o)
    assert.equal(reason(o.initiator).name, 'PairingAbortedError')
    assert.equal(reason(o.responder).name, 'PairingAbortedError')
  })

  it('a relay that reveals another nonce than the one committed to is caught by the commitment, before any string', async () => {
    // It forwards the commitments untouched and changes the new device's nonce on its way to the
    // old device (as a relay would to steer the string after seeing the old device's nonce).
    const o = await throughRelay({
      labels: 'lying',
      toR: () => pass,
      toI: () => (m) => (m.t === 'reveal' ? [{ t: 'reveal', key: m.key, nonce: randomBytes(NONCE_BYTES) }] : [m]),
    })
    assertDefeated(o)
    assert.equal(reason(o.initiator).name, 'PairingVerificationError')
    assert.match(reason(o.initiator).message, /commitment/)
    assert.deepEqual([...o.oldSide.shown, ...o.newSide.shown], [])
  })

  for (const learnFrom of ['new', 'old'] as const) {
    it(`an adaptive relay that learns the ${learnFrom} device's nonce before committing on the other leg still shows two strings`, async () => {
      const o = await throughRelay({ labels: 'lying', ...adaptive(learnFrom) })
      assert.equal(o.oldSide.shown.length, 1, 'the old device showed a string')
      assert.equal(o.newSide.shown.length, 1, 'the new device showed a string')
      assertDefeated(o)
    })
  }

  it('a relay without the secret that substitutes nonces fails the key confirmation: no string is shown anywhere', async () => {
    const o = await throughRelay({ labels: 'lying', ...nonceSubstitution(false) })
    assertDefeated(o)
    assert.deepEqual([...o.oldSide.shown, ...o.newSide.shown], [])
    const names = [reason(o.initiator).name, reason(o.responder).name]
    assert.ok(names.includes('PairingVerificationError'), names.join(', '))
  })

  it("a relay that forges the new device's confirmation cannot make the old device hand over its offer", async () => {
    let forged = false
    const o = await throughRelay({
      labels: 'lying',
      toR: () => pass,
      toI: () => (m) => {
        if (m.t === 'mac' && !forged) {
          forged = true
          return [m, { t: 'confirm', mac: randomBytes(32) }]
        }
        return [m]
      },
    })
    // The relay changed no key or nonce, so both screens show one string; the forged
    // confirmation is caught before the old device makes or sends anything.
    assert.equal(reason(o.initiator).name, 'PairingVerificationError')
    assert.match(reason(o.initiator).message, /confirmation/)
    assert.equal(o.responder.status, 'rejected')
    assert.deepEqual([...o.oldSide.payloadsMade, ...o.newSide.payloadsMade], [])
    assert.ok(!messageTypes(o.oldStream.written).includes('offer'))
  })

  it("a relay that reorders the new device's messages (confirm before mac) is a protocol error on both sides", async () => {
    let heldMac: PairingMessage | undefined
    const o = await throughRelay({
      labels: 'lying',
      carelessNew: true,
      toR: () => pass,
      toI: () => (m) => {
        if (m.t === 'mac') {
          heldMac = m
          return []
        }
        if (m.t === 'confirm' && heldMac !== undefined) return [m, heldMac]
        return [m]
      },
    })
    assertDefeated(o)
    assert.equal(reason(o.initiator).name, 'PairingProtocolError')
    assert.equal(reason(o.responder).name, 'PairingProtocolError')
  })

  it("a relay that replays a recorded session's messages gets a used code or a failed check", async () => {
    // Record an honest session through a pass-through relay.
    const recorded: { toR: PairingMessage[]; toI: PairingMessage[] } = { toR: [], toI: [] }
    const first = await throughRelay({
      labels: 'lying',
      toR: () => (m) => {
        recorded.toR.push(m)
        return [m]
      },
      toI: () => (m) => {
        recorded.toI.push(m)
        return [m]
      },
    })
    assert.equal(first.initiator.status, 'fulfilled')
    // A new session: the relay keeps the new device out of it and answers the old device with the
    // recorded answers, one per step. The old device's fresh nonce makes the recorded MAC wrong.
    const answers = [...recorded.toI]
    const replayed = await throughRelay({
      labels: 'lying',
      toR: (ctx) => (m) => {
        const reply = answers.shift()
        if (reply !== undefined && m.t !== 'confirm') void ctx.send.toI(reply)
        return []
      },
      toI: () => () => [],
    })
    assertDefeated(replayed)
    assert.equal(reason(replayed.initiator).name, 'PairingVerificationError')
    assert.deepEqual(replayed.oldSide.shown, [])
    // And the recorded old-device messages, replayed to the new device, name a used code.
    const created = newDeviceResponder()
    const used = created.responder.invite(inviteOptions(created.side, () => true))
    used.result.catch(() => {})
    const [relayEnd, newEnd] = duplexPair(first.oldStream.remotePeer, created.signer.peerId)
    const handled = created.responder.handle(newEnd)
    await relayEnd.write(encodeFrame(encodeMessage(recorded.toR[0] as PairingMessage)))
    await handled
    assert.deepEqual(messageTypes(newEnd.written), ['abort'])
    created.responder.stop()
  })

  it('a code swapped for the relay own code: the relay pairs with each device on its own, the strings differ', async () => {
    // The relay is a device with its own key and code; the old device was given the relay's code.
    // The relay also saw the new device's code and pairs with it, as an old device would.
    const created = newDeviceResponder({ confirmTimeoutMs: 3_000 })
    const oldDevice = newDevice()
    const relay = newDeviceResponder({ confirmTimeoutMs: 3_000 })
    const screens = people()
    const oldSide = record()
    const newInvite = created.responder.invite(inviteOptions(created.side, screens.confirm('new', created.side)))
    const relayInvite = relay.responder.invite(inviteOptions(relay.side, () => true))
    const [oldEnd, relayFromOld] = duplexPair(oldDevice.peerId, relay.signer.peerId)
    const [relayToNew, newEnd] = duplexPair(relay.signer.peerId, created.signer.peerId)
    const relayHandled = relay.responder.handle(relayFromOld)
    const newHandled = created.responder.handle(newEnd)
    const relayPairing = pair(
      relayToNew,
      pairOptions(relay.signer, newInvite.code, record(), () => true),
    )
    relayPairing.catch(() => {})
    relayInvite.result.catch(() => {})
    const [initiator, responder] = await Promise.allSettled([
      pair(oldEnd, pairOptions(oldDevice, relayInvite.code, oldSide, screens.confirm('old', oldSide))).finally(() =>
        screens.ended('old'),
      ),
      newInvite.result.finally(() => screens.ended('new')),
    ])
    await Promise.allSettled([relayHandled, newHandled, relayPairing])
    assertDefeated({ initiator, responder, oldSide, newSide: created.side, oldStream: oldEnd, newStream: newEnd })
    assert.equal(oldSide.shown.length, 1)
    assert.equal(created.side.shown.length, 1)
  })
})
