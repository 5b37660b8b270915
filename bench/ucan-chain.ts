/**
 * `node bench/ucan-chain.ts [--runs 2000] [--warmup 200]`
 *
 * UCAN chain verification time (src/delegation/ucan/): a 5-link chain of delegations about an
 * identity subject (each link with a small policy), proven by an invocation from the last
 * audience, validated the way an executor does: 6 envelope decodings and strict Ed25519
 * verifications, time bounds, alignment, the identity root authority, attenuation, removed-device
 * and revocation hooks, 5 policies, and the replay record. Also the held-chain validation alone
 * (`validateDelegationChain`, 5 links), the signature checks alone (`verify*`, 6 tokens), and the
 * invocation again with its chain in a cache of verified delegations (one signature to check).
 * Prints JSON (median, p99 and mean in ms); writes bench/results/ucan-chain.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  createDelegationCache,
  createReplayGuard,
  identityDid,
  identityRootAuthority,
  type Revocation,
  removedDeviceCheck,
  revocationCheck,
  signDelegation,
  signInvocation,
  validateDelegationChain,
  validateInvocation,
  verifyDelegation,
  verifyInvocation,
} from '../src/delegation/ucan/index.ts'
import { fakeDirectory, fakeIdentityId, proofStore, signers } from '../test/helpers/ucan.ts'
import { median } from './lib/stats.ts'

const here = dirname(fileURLToPath(import.meta.url))

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

async function timed(runs: number, warmup: number, fn: () => Promise<unknown> | unknown): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn()
  const ms: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    ms.push(performance.now() - start)
  }
  return ms
}

function summary(ms: number[]) {
  const round = (n: number) => Math.round(n * 1000) / 1000
  return {
    medianMs: round(median(ms)),
    p99Ms: round(percentile(ms, 99)),
    meanMs: round(ms.reduce((a, b) => a + b, 0) / ms.length),
  }
}

export async function benchUcanChain(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: 'string' }, warmup: { type: 'string' } } })
  const runs = Number(values.runs ?? 2000)
  const warmup = Number(values.warmup ?? 200)
  const now = Math.floor(Date.now() / 1000)
  const people = signers(6)
  const id = fakeIdentityId('bench')
  const sub = identityDid(id)
  const directory = fakeDirectory(id, [people[0]!])
  const chain = []
  for (let i = 0; i < 5; i++) {
    chain.push(
      await signDelegation(people[i]!, {
        aud: people[i + 1]!.did,
        sub,
        cmd: i < 2 ? '/store' : '/store/put',
        pol: [
          ['<=', '.size', 10 * 2 ** 30 - i],
          ['like', '.name', '*'],
        ],
        exp: now + 86_400,
      }),
    )
  }
  const invocation = await signInvocation(people[5]!, {
    sub,
    cmd: '/store/put',
    args: { size: 1024, name: 'photo.jpg' },
    prf: chain.map((d) => d.cid),
  })
  const store = proofStore(chain)
  const none: Revocation[] = []
  const hooks = {
    now,
    rootAuthority: identityRootAuthority(directory),
    isDeviceRevoked: removedDeviceCheck(directory),
    isRevoked: revocationCheck(() => none),
  }
  const tokens = chain.map((d) => d.bytes)
  const verified = createDelegationCache()
  const result = {
    links: chain.length,
    runs,
    node: process.version,
    invocationBytes: invocation.bytes.length,
    delegationBytes: Math.max(...tokens.map((t) => t.length)),
    // A fresh replay record per run: the same invocation would otherwise be refused as replayed.
    validateInvocation: summary(
      await timed(runs, warmup, () =>
        validateInvocation(invocation.bytes, { ...hooks, proofs: store.lookup, replay: createReplayGuard() }),
      ),
    ),
    // The same chain again with a cache of verified delegations (what an executor keeps): one signature.
    validateInvocationCachedChain: summary(
      await timed(runs, warmup, () =>
        validateInvocation(invocation.bytes, { ...hooks, proofs: store.lookup, replay: createReplayGuard(), verified }),
      ),
    ),
    validateDelegationChain: summary(await timed(runs, warmup, () => validateDelegationChain(tokens, hooks))),
    verifySignaturesOnly: summary(
      await timed(runs, warmup, () => {
        for (const t of tokens) verifyDelegation(t)
        verifyInvocation(invocation.bytes)
      }),
    ),
  }
  mkdirSync(join(here, 'results'), { recursive: true })
  writeFileSync(join(here, 'results', 'ucan-chain.json'), `${JSON.stringify(result, null, 2)}\n`)
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchUcanChain(process.argv.slice(2))
