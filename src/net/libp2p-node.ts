/** Building and starting the one libp2p node behind `Net` (its options are in libp2p-options.ts). */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Datastore } from 'interface-datastore'
import { createLibp2p, type Libp2p } from 'libp2p'
import { Registry } from 'prom-client'
import { listenError } from './errors.ts'
import { buildLibp2pOptions, type Services } from './libp2p-options.ts'
import type { PeerGuard } from './peer-guard.ts'
import { freeListenAddresses } from './ports.ts'
import { Traffic } from './traffic.ts'
import type { NetInit } from './types.ts'

export interface RunningLibp2p {
  node: Libp2p<Services>
  /** Prometheus registry of libp2p's and the process's metrics, when metrics are on. */
  registry?: Registry
  /** Bytes on the wire per connection and in total, when metrics are on. */
  traffic?: Traffic
}

/**
 * A started libp2p node for `init`; `onEvents` gets its event bus before it starts. Busy fixed TCP ports are swapped for free ones first; a
 * listen failure comes back as one clear AddressInUseError or InvalidInputError.
 */
export async function startLibp2p(
  init: NetInit,
  datastore: Datastore,
  guard: PeerGuard,
  onEvents: (events: EventTarget) => void = () => {},
): Promise<RunningLibp2p> {
  const privateKey = await generateKeyPairFromSeed('Ed25519', init.seed)
  const listen = init.transport === 'memory' ? init.listen : await freeListenAddresses(init.listen)
  const registry = init.metrics ? new Registry() : undefined
  const traffic = init.metrics ? new Traffic() : undefined
  const metrics = registry === undefined || traffic === undefined ? undefined : { registry, traffic }
  try {
    const node = await createLibp2p(buildLibp2pOptions(init, privateKey, datastore, listen, metrics, guard, onEvents))
    return { node, ...(metrics ?? {}) }
  } catch (err) {
    throw listenError(err)
  }
}

/** The peer ID (base58btc) of the device key with this Ed25519 seed, without starting anything. */
export async function peerIdFromSeed(seed: Uint8Array): Promise<string> {
  const key = await generateKeyPairFromSeed('Ed25519', seed)
  return peerIdFromPrivateKey(key).toString()
}
