/**
 * Linking a device: the pairing protocol (pairing/) carries three opaque payloads, and this is
 * what they hold for the identity log:
 *
 * - offer (existing -> new): `{ identity }`, the identity the new device is asked to join;
 * - join (new -> existing): the new device's join record (log/entry-codec), signed by its key;
 * - welcome (existing -> new): `{ identity, entries }`, the whole log after the existing device
 *   appended the co-signed addDevice and re-sealed the data key to every device, the new one too.
 *
 * Each side checks what it gets before the other is told it worked: the existing device checks
 * that the join record names its identity and comes from the device the connection
 * authenticated; the new device verifies every entry of the log, that it is a member, and that
 * it can open the data key.
 */
import * as cbor from '@ipld/dag-cbor'
import { InvalidInputError } from '../core/errors.ts'
import type { KeyAgreement, Signer } from '../core/signer.ts'
import type { Net } from '../net/index.ts'
import { createJoinRequest, type EntryInput, type IdentityLog, readJoinRequest, verifyLog } from './log/index.ts'
import { type ConfirmShortString, type PairingResponder, pairWithCode } from './pairing/index.ts'

export interface WelcomeOutcome {
  log: IdentityLog
  /** The device that welcomed this one. */
  peer: string
}

export interface NewDeviceOptions {
  responder: PairingResponder
  signer: Signer
  keyAgreement: KeyAgreement
  name: string
  confirm: ConfirmShortString
  signal: AbortSignal
  maxEntries: number
}

/** On the new device: a code to show, and the verified log once a device of the identity welcomed it. */
export function linkAsNewDevice(options: NewDeviceOptions): {
  code: string
  expiresAt: number
  welcome: Promise<WelcomeOutcome>
} {
  let verified: IdentityLog | undefined
  let asked: string | undefined
  const invitation = options.responder.invite({
    confirm: options.confirm,
    signal: options.signal,
    join: (offer) => {
      asked = decodeOffer(offer)
      return createJoinRequest(options.signer, options.keyAgreement, { identity: asked, name: options.name })
    },
    acceptWelcome: (bytes) => {
      const welcome = decodeWelcome(bytes)
      if (welcome.identity !== asked) throw new InvalidInputError('the welcome is for another identity than offered')
      const log = verifyLog(welcome.identity, welcome.entries, { maxEntries: options.maxEntries })
      if (!log.isMember(options.signer.peerId)) throw new InvalidInputError('the welcomed log does not add this device')
      log.openDataKey(options.keyAgreement, options.signer.peerId)
      verified = log
    },
  })
  return {
    code: invitation.code,
    expiresAt: invitation.expiresAt,
    welcome: invitation.result.then((r) => {
      if (verified === undefined) throw new InvalidInputError('paired, but no verified log arrived')
      return { log: verified, peer: r.peerId }
    }),
  }
}

export interface ExistingDeviceOptions {
  net: Net
  signer: Signer
  keyAgreement: KeyAgreement
  code: string
  confirm: ConfirmShortString
  signal: AbortSignal
  /** This device's identity log (read at each step: it may change meanwhile). */
  log(): IdentityLog
  /** Append an entry to it, signed by this device, and keep it. */
  write(input: EntryInput): Promise<void>
}

/** On a device of the identity: pair with the new device and add it. Resolves with its peer ID. */
export async function linkAsExistingDevice(options: ExistingDeviceOptions): Promise<string> {
  const result = await pairWithCode(options.net, {
    signer: options.signer,
    code: options.code,
    confirm: options.confirm,
    signal: options.signal,
    offer: () => cbor.encode({ identity: options.log().id }),
    welcome: async (join, context) => {
      const request = readJoinRequest(join)
      if (request.device !== context.peerId) {
        throw new InvalidInputError(`the join record is signed by ${request.device}, not by ${context.peerId}`)
      }
      if (request.identity !== options.log().id) throw new InvalidInputError('the join record names another identity')
      await options.write({ kind: 'addDevice', join })
      // The new device may read what was sealed before it came: the same key, sealed to it too.
      const { key } = options.log().openDataKey(options.keyAgreement, options.signer.peerId)
      await options.write({ kind: 'rotateDataKey', dataKey: key })
      return cbor.encode({ identity: options.log().id, entries: options.log().entries() })
    },
  })
  return result.peerId
}

function decodeOffer(bytes: Uint8Array): string {
  const v = safeDecode(bytes, 'offer') as { identity?: unknown }
  if (typeof v.identity !== 'string' || v.identity.length > 128 || Object.keys(v).length !== 1) {
    throw new InvalidInputError('pairing offer must be { identity }')
  }
  return v.identity
}

function decodeWelcome(bytes: Uint8Array): { identity: string; entries: Uint8Array[] } {
  const v = safeDecode(bytes, 'welcome') as { identity?: unknown; entries?: unknown }
  if (typeof v.identity !== 'string' || !Array.isArray(v.entries) || Object.keys(v).length !== 2) {
    throw new InvalidInputError('pairing welcome must be { identity, entries }')
  }
  if (!v.entries.every((e) => e instanceof Uint8Array)) throw new InvalidInputError('welcome entries must be bytes')
  return { identity: v.identity, entries: v.entries as Uint8Array[] }
}

function safeDecode(bytes: Uint8Array, what: string): object {
  let v: unknown
  try {
    v = cbor.decode(bytes)
  } catch {
    throw new InvalidInputError(`pairing ${what} is not DAG-CBOR`)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
    throw new InvalidInputError(`pairing ${what} is not a map`)
  }
  return v
}
