/**
 * Device pairing (src/identity/pairing/) over in-memory streams: a pairing both people confirm
 * hands the join and welcome payloads over; a refusal on either side, a used or expired code, a
 * peer without the secret, a silent peer or a cancelled caller end both sides with nothing
 * handed over. The network variant is in identity-pairing-net.test.ts.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { equalBytes, randomBytes } from '../src/core/crypto.ts'
import { decodePairingCode, pair } from '../src/identity/pairing/index.ts'
import { codeIdOf, commitmentOf, NONCE_BYTES } from '../src/identity/pairing/transcript.ts'
import { PairingWire } from '../src/identity/pairing/wire.ts'
import { duplexPair } from './helpers/pairing-duplex.ts'
import {
  confirmer,
  inviteOptions,
  JOIN,
  messageTypes,
  newDevice,
  newDeviceResponder,
  OFFER,
  pairAgreeing,
  pairDirect,
  pairOptions,
  reason,
  record,
  stopResponders,
  WELCOME,
} from './helpers/pairing-fixture.ts'

const HANDED_OVER = ['offer', 'join', 'welcome']

describe('device pairing', { timeout: 20_000 }, () => {
  after(stopResponders)

  it('both people confirm: the same short string on both screens, the join and the welcome cross once', async () => {
    const created = newDeviceResponder()
    const oldDevice = newDevice()
    const oldSide = record()
    const invitation = created.responder.invite(
      inviteOptions(
        created.side,
        confirmer(created.side, () => true),
      ),
    )
    const { initiator, responder, streams } = await pairDirect(
      oldDevice,
      created,
      invitation,
      pairOptions(
        oldDevice,
        invitation.code,
        oldSide,
        confirmer(oldSide, () => true),
      ),
    )
    assert.equal(initiator.status, 'fulfilled', initiator.status === 'rejected' ? String(initiator.reason) : '')
    assert.equal(responder.status, 'fulfilled', responder.status === 'rejected' ? String(responder.reason) : '')
    if (initiator.status !== 'fulfilled' || responder.status !== 'fulfilled') return
    assert.match(oldSide.shown[0] ?? '', /^\d{4}-\d{4}-\d{4}$/)
    assert.deepEqual(oldSide.shown, created.side.shown, 'both screens show the same string')
    assert.deepEqual(initiator.value.join, JOIN)
    assert.deepEqual(responder.value.welcome, WELCOME)
    assert.deepEqual(responder.value.offer, OFFER)
    assert.equal(initiator.value.peerId, created.signer.peerId)
    assert.equal(responder.value.peerId, oldDevice.peerId)
    assert.ok(equalBytes(initiator.value.transcriptHash, responder.value.transcriptHash))
    assert.deepEqual(oldSide.payloadsMade, ['offer', 'welcome for join: signed join record'])
    assert.deepEqual(messageTypes(streams[0].written), ['hello', 'reveal', 'mac', 'confirm', 'offer', 'welcome'])
    assert.deepEqual(messageTypes(streams[1].written), ['commit', 'reveal', 'mac', 'confirm', 'join', 'done'])
    assert.equal(created.responder.waiting(), 0)
  })

  for (const refuser of ['new', 'old'] as const) {
    it(`a refusal on the ${refuser} device aborts both, closes the other prompt, and hands nothing over`, async () => {
      const created = newDeviceResponder()
      const oldDevice = newDevice()
      const oldSide = record()
      // The refusing side answers no; the other person has not answered yet (its prompt waits).
      const newAnswer = refuser === 'new' ? () => false : () => 'never' as const
      const oldAnswer = refuser === 'old' ? () => false : () => 'never' as const
      const invitation = created.responder.invite(inviteOptions(created.side, confirmer(created.side, newAnswer)))
      const { initiator, responder, streams } = await pairDirect(
        oldDevice,
        created,
        invitation,
        pairOptions(oldDevice, invitation.code, oldSide, confirmer(oldSide, oldAnswer)),
      )
      const [local, remote] =
        refuser === 'new' ? [reason(responder), reason(initiator)] : [reason(initiator), reason(responder)]
      assert.equal(local.name, 'PairingAbortedError')
      assert.equal((local as { by?: string }).by, 'local')
      assert.equal(remote.name, 'PairingAbortedError')
      assert.equal((remote as { by?: string }).by, 'remote')
      assert.match(remote.message, /refused/)
      const waiting = refuser === 'new' ? oldSide : created.side
      assert.deepEqual(waiting.promptAborted, [true], "the other person's prompt was closed")
      assert.deepEqual(oldSide.payloadsMade, [], 'no offer or welcome was made')
      assert.deepEqual(created.side.payloadsMade, [], 'no join was made')
      for (const s of streams) assert.ok(!messageTypes(s.written).some((t) => HANDED_OVER.includes(t)))
    })
  }

  it('a person who confirms while the other has not yet answered hands nothing over until both confirmed', async () => {
    const created = newDeviceResponder()
    const oldDevice = newDevice()
    const oldSide = record()
    let releaseNew: (ok: boolean) => void = () => {}
    const newDecided = new Promise<boolean>((resolve) => {
      releaseNew = resolve
    })
    const invitation = created.responder.invite(
      inviteOptions(
        created.side,
        confirmer(created.side, () => newDecided),
      ),
    )
    const streams = duplexPair(oldDevice.peerId, created.signer.peerId)
    const handled = created.responder.handle(streams[1])
    const progress: string[] = []
    const paired = pair(
      streams[0],
      pairOptions(
        oldDevice,
        invitation.code,
        oldSide,
        confirmer(oldSide, () => true),
        {
          onProgress: (e) => progress.push(e.type),
        },
      ),
    )
    paired.catch(() => {})
    // The old device's person has confirmed; the new one's is still deciding.
    const { waitFor } = await import('../src/testing/wait.ts')
    await waitFor(() => messageTypes(streams[0].written).includes('confirm'), { timeoutMs: 5_000, intervalMs: 5 })
    assert.deepEqual(oldSide.payloadsMade, [], 'no offer before the other person confirmed')
    assert.ok(!messageTypes(streams[0].written).includes('offer'))
    releaseNew(false)
    await assert.rejects(paired, { name: 'PairingAbortedError' })
    await assert.rejects(invitation.result, { name: 'PairingAbortedError' })
    await handled
    assert.deepEqual(oldSide.payloadsMade, [])
    assert.ok(!progress.includes('pairing:remote-confirmed'))
  })

  it('a used code is refused, after a success and after a refusal alike', async () => {
    for (const firstAnswer of [true, false]) {
      const created = newDeviceResponder()
      const oldDevice = newDevice()
      const invitation = created.responder.invite(
        inviteOptions(
          created.side,
          confirmer(created.side, () => firstAnswer),
        ),
      )
      const first = await pairDirect(
        oldDevice,
        created,
        invitation,
        pairOptions(
          oldDevice,
          invitation.code,
          record(),
          confirmer(record(), () => firstAnswer),
        ),
      )
      assert.equal(first.initiator.status, firstAnswer ? 'fulfilled' : 'rejected')
      const again = duplexPair(oldDevice.peerId, created.signer.peerId)
      const handled = created.responder.handle(again[1])
      const side = record()
      await assert.rejects(
        pair(
          again[0],
          pairOptions(
            oldDevice,
            invitation.code,
            side,
            confirmer(side, () => true),
          ),
        ),
        {
          name: 'PairingCodeUsedError',
        },
      )
      await handled
      assert.deepEqual(side.shown, [], 'no short string for a used code')
    }
  })

  it('an expired code is refused (injected clock), and a code no one uses expires by itself', async () => {
    let now = 1_700_000_000_000
    const created = newDeviceResponder({ now: () => now })
    const invitation = created.responder.invite(
      inviteOptions(
        created.side,
        confirmer(created.side, () => true),
      ),
    )
    assert.equal(invitation.expiresAt, now + 600_000, 'ten minutes by default')
    now += 600_000
    const { initiator, responder, side } = await pairAgreeing(created, invitation)
    assert.equal(reason(initiator).name, 'PairingCodeExpiredError')
    assert.equal(reason(responder).name, 'PairingCodeExpiredError')
    assert.deepEqual(side.shown, [])
    assert.deepEqual(created.side.shown, [])

    const short = newDeviceResponder({ codeTtlMs: 1_000 })
    const soon = short.responder.invite(
      inviteOptions(
        short.side,
        confirmer(short.side, () => true),
      ),
    )
    await assert.rejects(soon.result, { name: 'PairingCodeExpiredError' })
    assert.equal(short.responder.waiting(), 0)
  })

  it('a peer without the code is refused before any prompt, and the code still works afterwards', async () => {
    const created = newDeviceResponder()
    const invitation = created.responder.invite(
      inviteOptions(
        created.side,
        confirmer(created.side, () => true),
      ),
    )
    const stranger = newDevice()
    const guessed = { ...decodePairingCode(invitation.code), secret: randomBytes(16) }
    const streams = duplexPair(stranger.peerId, created.signer.peerId)
    const handled = created.responder.handle(streams[1])
    const side = record()
    await assert.rejects(
      pair(streams[0], {
        ...pairOptions(
          stranger,
          invitation.code,
          side,
          confirmer(side, () => true),
        ),
        code: guessed,
      }),
      {
        name: 'InvalidPairingCodeError',
      },
    )
    await handled
    assert.deepEqual(created.side.shown, [])
    assert.equal(created.responder.waiting(), 1, 'a stranger does not use up the code')

    const oldDevice = newDevice()
    const ok = await pairDirect(
      oldDevice,
      created,
      invitation,
      pairOptions(
        oldDevice,
        invitation.code,
        record(),
        confirmer(record(), () => true),
      ),
    )
    assert.equal(ok.initiator.status, 'fulfilled')
  })

  it('a peer that knows the code ID but not the secret fails the key confirmation: no prompt, no payload', async () => {
    const created = newDeviceResponder()
    const invitation = created.responder.invite(
      inviteOptions(
        created.side,
        confirmer(created.side, () => true),
      ),
    )
    const code = decodePairingCode(invitation.code)
    const attacker = newDevice()
    const streams = duplexPair(attacker.peerId, created.signer.peerId)
    const handled = created.responder.handle(streams[1])
    const wire = new PairingWire(streams[0])
    const read = { maxBytes: 1024, maxPayloadBytes: 0, timeoutMs: 5_000 }
    const nonce = randomBytes(NONCE_BYTES)
    await wire.send(
      { t: 'hello', code: codeIdOf(code.secret), commit: commitmentOf('initiator', attacker.publicKey, nonce) },
      1_000,
    )
    await wire.expect('commit', read)
    await wire.send({ t: 'reveal', key: attacker.publicKey, nonce }, 1_000)
    await wire.expect('reveal', read)
    await wire.send({ t: 'mac', mac: randomBytes(32) }, 1_000)
    await assert.rejects(wire.expect('mac', read), { name: 'PairingVerificationError' })
    await assert.rejects(invitation.result, { name: 'PairingVerificationError' })
    await handled
    assert.deepEqual(created.side.shown, [], 'the new device never showed a short string')
    assert.deepEqual(created.side.payloadsMade, [])
  })

  it('a silent new device, a person who never answers and a cancelled caller each end both sides', async () => {
    // Silent: the old device gives up after its step deadline.
    const created = newDeviceResponder()
    const invitation = created.responder.invite(
      inviteOptions(
        created.side,
        confirmer(created.side, () => true),
      ),
    )
    const oldDevice = newDevice()
    const [oldEnd] = duplexPair(oldDevice.peerId, created.signer.peerId)
    const side = record()
    await assert.rejects(
      pair(oldEnd, {
        ...pairOptions(
          oldDevice,
          invitation.code,
          side,
          confirmer(side, () => true),
        ),
        stepTimeoutMs: 100,
      }),
      { name: 'TimeoutError' },
    )

    // Never answers: both give up after the confirmation deadline, nothing handed over.
    const slow = newDeviceResponder({ confirmTimeoutMs: 300 })
    const slowInvite = slow.responder.invite(
      inviteOptions(
        slow.side,
        confirmer(slow.side, () => true),
      ),
    )
    const slowSide = record()
    const timedOut = await pairDirect(
      oldDevice,
      slow,
      slowInvite,
      pairOptions(
        oldDevice,
        slowInvite.code,
        slowSide,
        confirmer(slowSide, () => 'never'),
        { confirmTimeoutMs: 300 },
      ),
    )
    assert.equal(reason(timedOut.initiator).name, 'TimeoutError')
    assert.equal(reason(timedOut.responder).name, 'TimeoutError')
    assert.deepEqual(slowSide.promptAborted, [true])
    assert.deepEqual([...slowSide.payloadsMade, ...slow.side.payloadsMade], [])

    // Cancelled: the old device's caller gives up while its person decides; the new device is told.
    const third = newDeviceResponder()
    const thirdInvite = third.responder.invite(
      inviteOptions(
        third.side,
        confirmer(third.side, () => 'never'),
      ),
    )
    const controller = new AbortController()
    const thirdSide = record()
    const cancelled = await pairDirect(
      oldDevice,
      third,
      thirdInvite,
      pairOptions(
        oldDevice,
        thirdInvite.code,
        thirdSide,
        confirmer(thirdSide, () => {
          controller.abort()
          return 'never'
        }),
        { signal: controller.signal },
      ),
    )
    assert.equal(reason(cancelled.initiator).name, 'PairingAbortedError')
    const remote = reason(cancelled.responder)
    assert.equal(remote.name, 'PairingAbortedError')
    assert.match(remote.message, /cancelled/)
    assert.deepEqual(third.side.promptAborted, [true], "the new device's prompt was closed")
  })

  it("the new device refusing the welcome (its check throws) ends the old device's pairing with the reason", async () => {
    const created = newDeviceResponder()
    const invitation = created.responder.invite(
      inviteOptions(
        created.side,
        confirmer(created.side, () => true),
        {
          acceptWelcome: () => {
            throw new Error('the log does not verify')
          },
        },
      ),
    )
    const { initiator, responder } = await pairAgreeing(created, invitation)
    assert.equal(reason(responder).name, 'PairingAbortedError')
    const err = reason(initiator)
    assert.equal(err.name, 'PairingAbortedError')
    assert.match(err.message, /the log does not verify/)
  })

  it('stop() refuses every waiting code', async () => {
    const created = newDeviceResponder()
    const a = created.responder.invite(
      inviteOptions(
        created.side,
        confirmer(created.side, () => true),
      ),
    )
    created.responder.stop()
    await assert.rejects(a.result, { name: 'PairingAbortedError' })
    assert.throws(() =>
      created.responder.invite(
        inviteOptions(
          created.side,
          confirmer(created.side, () => true),
        ),
      ),
    )
  })
})
