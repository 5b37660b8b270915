/**
 * Two devices for pairing tests over in-memory streams: the new one (a PairingResponder with a
 * code waiting) and the old one (which runs `pair`), with every callback recorded, so a test can
 * assert what each person was shown and that no payload was made or handed over.
 */
import * as cbor from '@ipld/dag-cbor'
import { createDeviceSigner, type DeviceSigner } from '../../src/identity/device-signer.ts'
import { generateDeviceKey } from '../../src/identity/keystore.ts'
import {
  type ConfirmShortString,
  decodePairingCode,
  type InviteOptions,
  type PairingInvitation,
  PairingResponder,
  type PairingResponderInit,
  type PairOptions,
  type PairResult,
  pair,
} from '../../src/identity/pairing/index.ts'
import { duplexPair, type TestStream } from './pairing-duplex.ts'

export const JOIN = new TextEncoder().encode('join: signed join record')
export const WELCOME = new TextEncoder().encode('welcome: log + sealed data key')
export const OFFER = new TextEncoder().encode('offer: identity and head')

export function newDevice(): DeviceSigner {
  return createDeviceSigner(generateDeviceKey())
}

/** What happened on one side. */
export interface SideRecord {
  shown: string[]
  /** Whether each prompt's signal had aborted when the pairing ended. */
  promptAborted: boolean[]
  payloadsMade: string[]
}

export function record(): SideRecord {
  return { shown: [], promptAborted: [], payloadsMade: [] }
}

/** A confirm callback that records what it was shown and answers with `answer` (or waits on the signal). */
export function confirmer(
  side: SideRecord,
  answer: (shown: string) => boolean | 'never' | Promise<boolean>,
): ConfirmShortString {
  return async (shortString, { signal }) => {
    const index = side.shown.push(shortString) - 1
    side.promptAborted[index] = false
    signal.addEventListener('abort', () => {
      side.promptAborted[index] = true
    })
    const a = await answer(shortString)
    if (a === 'never') {
      return new Promise<boolean>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    }
    return a
  }
}

export interface NewDevice {
  signer: DeviceSigner
  responder: PairingResponder
  side: SideRecord
}

const responders: PairingResponder[] = []

/** A new device with a responder, stopped by `stopResponders()` (its code timers keep the process alive). */
export function newDeviceResponder(init: PairingResponderInit = {}): NewDevice {
  const signer = newDevice()
  const responder = new PairingResponder({ signer, addresses: () => ['/memory/test'] }, init)
  responders.push(responder)
  return { signer, responder, side: record() }
}

/** Stop every responder the fixture made (a suite's `after`). */
export function stopResponders(): void {
  for (const r of responders.splice(0)) r.stop()
}

export function inviteOptions(
  side: SideRecord,
  confirm: ConfirmShortString,
  extra: Partial<InviteOptions> = {},
): InviteOptions {
  return {
    confirm,
    join: (offer) => {
      side.payloadsMade.push(`join after offer ${new TextDecoder().decode(offer)}`)
      return JOIN
    },
    ...extra,
  }
}

export function pairOptions(
  signer: DeviceSigner,
  code: string,
  side: SideRecord,
  confirm: ConfirmShortString,
  extra: Partial<PairOptions> = {},
): PairOptions {
  return {
    signer,
    code: decodePairingCode(code),
    confirm,
    offer: () => {
      side.payloadsMade.push('offer')
      return OFFER
    },
    welcome: (join) => {
      side.payloadsMade.push(`welcome for ${new TextDecoder().decode(join)}`)
      return WELCOME
    },
    ...extra,
  }
}

/** Run one pairing directly between the two (an honest transport). */
export async function pairDirect(
  oldDevice: DeviceSigner,
  newDevice: NewDevice,
  invitation: PairingInvitation,
  options: PairOptions,
): Promise<{
  initiator: PromiseSettledResult<PairResult>
  responder: PromiseSettledResult<Awaited<PairingInvitation['result']>>
  streams: [TestStream, TestStream]
}> {
  const streams = duplexPair(oldDevice.peerId, newDevice.signer.peerId)
  const handled = newDevice.responder.handle(streams[1])
  const [initiator, responder] = await Promise.allSettled([pair(streams[0], options), invitation.result])
  await handled
  return { initiator, responder, streams }
}

/** A fresh old device pairs with `invited`'s invitation, its person confirming whatever it is shown. */
export async function pairAgreeing(invited: NewDevice, invitation: PairingInvitation) {
  const oldDevice = newDevice()
  const side = record()
  const result = await pairDirect(
    oldDevice,
    invited,
    invitation,
    pairOptions(
      oldDevice,
      invitation.code,
      side,
      confirmer(side, () => true),
    ),
  )
  return { ...result, side, oldDevice }
}

/** The message types a stream's recorded bytes carry (frames decoded loosely, for assertions). */
export function messageTypes(written: Uint8Array[]): string[] {
  const bytes = Buffer.concat(written)
  const types: string[] = []
  let at = 0
  while (at < bytes.length) {
    let length = 0
    let shift = 1
    for (;;) {
      const b = bytes[at++] as number
      length += (b & 0x7f) * shift
      shift *= 128
      if ((b & 0x80) === 0) break
    }
    const message = cbor.decode(bytes.subarray(at, at + length)) as { t: string }
    types.push(message.t)
    at += length
  }
  return types
}

/** The error of a rejected settlement (fails the test on a fulfilled one). */
export function reason(settled: PromiseSettledResult<unknown>): Error {
  if (settled.status === 'fulfilled') throw new Error('expected the pairing to fail, but it succeeded')
  return settled.reason as Error
}
