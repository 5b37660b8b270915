/**
 * Storage challenges (docs/protocols/storage.md, "Challenges"): proofs that a keeper still holds a
 * DAG, asked by its owner at random times.
 *
 * - A **range** challenge names a walk to a block (dag-walk.ts), a byte range of that block and a
 *   fresh nonce; the answer is SHA-256(nonce || the range's bytes). The owner cannot compute it
 *   once it deleted its own copy, so it precomputes a pool of them at put time, while it has the
 *   bytes, and uses each once.
 * - A **block** challenge (when the pool is used up) names only a walk: the answer is every block
 *   from the root to the chosen one, which the owner checks against the root CID it knows.
 *
 * Either way the keeper must read the challenged block at the time it is asked.
 */
import { randomInt } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import { STORAGE_NONCE_BYTES, STORAGE_WALK_MAX_STEPS } from '../core/constants.ts'
import { concatBytes, equalBytes, randomBytes, sha256 } from '../core/crypto.ts'
import { InvalidInputError } from '../core/errors.ts'
import { type BlockSource, checkPath, walk } from './dag-walk.ts'

export interface Challenge {
  nonce: Uint8Array
  /** Random numbers choosing the link at each level (dag-walk.ts). */
  steps: number[]
  /** `[offset, length]` in the challenged block: a range challenge; absent: a block challenge. */
  range?: [number, number]
}

/** A range challenge with the answer the owner computed while it had the bytes. */
export interface PooledChallenge {
  nonce: Uint8Array
  steps: number[]
  range: [number, number]
  expected: Uint8Array
}

function randomSteps(): number[] {
  return [...crypto.getRandomValues(new Uint32Array(STORAGE_WALK_MAX_STEPS))]
}

/** The answer to a range challenge over `block`. */
export function rangeDigest(nonce: Uint8Array, block: Uint8Array, range: readonly [number, number]): Uint8Array {
  const [offset, length] = range
  if (offset + length > block.length) {
    throw new InvalidInputError(`range ${offset}+${length} is outside the block (${block.length} bytes)`)
  }
  return sha256(concatBytes(nonce, block.subarray(offset, offset + length)))
}

/**
 * `count` range challenges over the DAG under `root`, which must be stored in `blocks`: each a
 * random walk, a random range of at most `rangeBytes` of the block it reaches, a fresh nonce.
 */
export async function precompute(
  blocks: BlockSource,
  root: CID,
  count: number,
  rangeBytes: number,
): Promise<PooledChallenge[]> {
  const pool: PooledChallenge[] = []
  for (let i = 0; i < count; i++) {
    const steps = randomSteps()
    const path = await walk(blocks, root, steps)
    const block = (path.at(-1) as { bytes: Uint8Array }).bytes
    const length = Math.min(rangeBytes, block.length)
    const range: [number, number] = [randomInt(0, block.length - length + 1), length]
    const nonce = randomBytes(STORAGE_NONCE_BYTES)
    // Only the steps the walk used: the keeper stops at the same block with fewer numbers to read.
    pool.push({ nonce, steps: steps.slice(0, path.length - 1), range, expected: rangeDigest(nonce, block, range) })
  }
  return pool
}

/** A block challenge: a fresh walk (the owner needs none of the bytes to check its answer). */
export function blockChallenge(): Challenge {
  return { nonce: randomBytes(STORAGE_NONCE_BYTES), steps: randomSteps() }
}

/** The keeper's answer to a range challenge: the digest over the range of the block the walk reaches. */
export async function answerRange(
  blocks: BlockSource,
  root: CID,
  challenge: Challenge & { range: [number, number] },
): Promise<Uint8Array> {
  const path = await walk(blocks, root, challenge.steps)
  return rangeDigest(challenge.nonce, (path.at(-1) as { bytes: Uint8Array }).bytes, challenge.range)
}

/**
 * The keeper's answer to a block challenge: the blocks from the root to the chosen one, or their
 * total size when it passes `maxBytes` (the keeper then refuses as `too-large`).
 */
export async function answerBlocks(
  blocks: BlockSource,
  root: CID,
  steps: readonly number[],
  maxBytes: number,
): Promise<{ blocks: Uint8Array[] } | { tooLarge: number }> {
  const path = await walk(blocks, root, steps)
  const total = path.reduce((n, b) => n + b.bytes.length, 0)
  return total > maxBytes ? { tooLarge: total } : { blocks: path.map((b) => b.bytes) }
}

/** Why an answer fails its challenge, or undefined when it proves possession. */
export async function judgeAnswer(
  root: CID,
  challenge: Challenge,
  expected: Uint8Array | undefined,
  answer: { digest: Uint8Array } | { blocks: Uint8Array[] },
): Promise<string | undefined> {
  if (challenge.range !== undefined) {
    if (!('digest' in answer)) return 'the keeper sent blocks for a range challenge'
    return expected !== undefined && equalBytes(answer.digest, expected)
      ? undefined
      : 'wrong digest: the keeper did not hash the challenged bytes'
  }
  if (!('blocks' in answer)) return 'the keeper sent a digest for a block challenge'
  return checkPath(root, challenge.steps, answer.blocks)
}
