/**
 * The data key's backup with the guardians (docs/protocols/recovery.md, "Backup"): Shamir secret
 * sharing over GF(256) (`shamir-secret-sharing`, audited), one share per guardian. That library
 * checks nothing on reconstruction, so each share is bound to a digest published in the
 * setGuardians entry, and sealed to each of its guardian's devices:
 *
 * ```
 * digest = SHA-256(UTF-8 "lateral/recovery/share/1 <identity> <epoch> <index>" || share)
 * sealed = X25519 + HKDF-SHA256 (info "lateral/recovery/share/1") + XChaCha20-Poly1305,
 *          aad = UTF-8 "<identity> <epoch> <index> <device>"
 * ```
 *
 * A guardian releases its share to the recovered device by sealing it again, to that device.
 * `combineShares` checks every share against its digest first: a tampered or wrong share is named
 * and left out, and the key is rebuilt from enough honest ones.
 */
import { combine, split } from 'shamir-secret-sharing'
import {
  concatBytes,
  equalBytes,
  hkdfSha256,
  open,
  randomBytes,
  seal,
  sha256,
  x25519Keygen,
  x25519Shared,
} from '../../core/crypto.ts'
import { InvalidInputError } from '../../core/errors.ts'
import type { KeyAgreement } from '../../core/signer.ts'
import { type SealedShare, SHARE_BYTES } from './recovery-entries.ts'

const INFO = 'lateral/recovery/share/1'

export interface ShareContext {
  identity: string
  epoch: number
  /** The guardian's index in the set. */
  index: number
}

export interface GuardianKeys {
  identity: string
  devices: Array<{ peerId: string; x25519: Uint8Array }>
}

export function shareDigest(share: Uint8Array, ctx: ShareContext): Uint8Array {
  return sha256(concatBytes(new TextEncoder().encode(`${INFO} ${ctx.identity} ${ctx.epoch} ${ctx.index}`), share))
}

/** Split `dataKey` among `guardians` (sorted as in the entry): digests and sealed shares. */
export async function splitDataKey(
  dataKey: Uint8Array,
  guardians: readonly GuardianKeys[],
  threshold: number,
  identity: string,
  epoch: number,
): Promise<{ digests: Uint8Array[]; shares: SealedShare[] }> {
  // The library needs a threshold of 2 or more: with 1, every guardian holds the key itself.
  const parts =
    threshold === 1
      ? guardians.map((_, i) => concatBytes(dataKey, Uint8Array.of(i + 1)))
      : await split(dataKey, guardians.length, threshold)
  const digests: Uint8Array[] = []
  const shares: SealedShare[] = []
  for (const [index, g] of guardians.entries()) {
    const share = parts[index] as Uint8Array
    digests.push(shareDigest(share, { identity, epoch, index }))
    for (const d of g.devices) shares.push(sealShare(share, d.x25519, { identity, epoch, index }, d.peerId))
  }
  return { digests, shares }
}

export function sealShare(share: Uint8Array, x25519: Uint8Array, ctx: ShareContext, device: string): SealedShare {
  const eph = x25519Keygen()
  const key = hkdfSha256(x25519Shared(eph.secret, x25519), concatBytes(eph.publicKey, x25519), INFO)
  const nonce = randomBytes(24)
  return { guardian: ctx.index, device, eph: eph.publicKey, nonce, ct: seal(key, nonce, share, aad(ctx, device)) }
}

/** Open a share sealed to this device; InvalidInputError when it does not open. */
export function openShare(sealed: SealedShare, keyAgreement: KeyAgreement, ctx: ShareContext): Uint8Array {
  const key = hkdfSha256(keyAgreement.agree(sealed.eph), concatBytes(sealed.eph, keyAgreement.x25519PublicKey), INFO)
  const share = open(key, sealed.nonce, sealed.ct, aad(ctx, sealed.device))
  if (share === undefined || share.length !== SHARE_BYTES)
    throw new InvalidInputError('the share does not open with this device key')
  return share
}

/**
 * Rebuild the key from released shares. Each is checked against its digest; those that fail are
 * named in `refused` and left out. InvalidInputError when fewer than `threshold` honest shares remain.
 */
export async function combineShares(
  released: ReadonlyArray<{ index: number; share: Uint8Array; from: string }>,
  digests: readonly Uint8Array[],
  threshold: number,
  identity: string,
  epoch: number,
): Promise<{ key: Uint8Array; used: string[]; refused: Array<{ from: string; reason: string }> }> {
  const good = new Map<number, { share: Uint8Array; from: string }>()
  const refused: Array<{ from: string; reason: string }> = []
  for (const r of released) {
    const digest = digests[r.index]
    if (digest === undefined) {
      refused.push({ from: r.from, reason: `no guardian ${r.index} in the set` })
    } else if (
      r.share.length !== SHARE_BYTES ||
      !equalBytes(shareDigest(r.share, { identity, epoch, index: r.index }), digest)
    ) {
      refused.push({
        from: r.from,
        reason: 'its share does not match the digest in the guardian set (tampered or wrong)',
      })
    } else if (!good.has(r.index)) {
      good.set(r.index, { share: r.share, from: r.from })
    }
  }
  if (good.size < threshold) {
    throw new InvalidInputError(
      `${good.size} valid share(s), ${threshold} needed${refused.length > 0 ? `; refused: ${refused.map((r) => `${r.from} (${r.reason})`).join(', ')}` : ''}`,
    )
  }
  const chosen = [...good.values()].slice(0, threshold)
  const key =
    chosen.length === 1
      ? (chosen[0] as { share: Uint8Array }).share.subarray(0, 32)
      : await combine(chosen.map((c) => c.share))
  return { key, used: chosen.map((c) => c.from), refused }
}

function aad(ctx: ShareContext, device: string): Uint8Array {
  return new TextEncoder().encode(`${ctx.identity} ${ctx.epoch} ${ctx.index} ${device}`)
}
