/**
 * Pairing between two real nodes on libp2p's memory transport: the new device serves
 * `/lateral/pair/1.0.0`, the old one dials the code's address; libp2p's secure channel
 * authenticates the peer IDs the protocol checks the revealed keys against.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createDeviceSigner } from '../src/identity/device-signer.ts'
import {
  decodePairingCode,
  PAIRING_PROTOCOL,
  PairingResponder,
  pairWithCode,
  sameShortString,
  servePairing,
} from '../src/identity/pairing/index.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'

/** The node's identity service answers pairing already: this test serves its own responder instead. */
async function serveOwn(node: LateralNode, responder: PairingResponder): Promise<void> {
  await node.net.unhandle(PAIRING_PROTOCOL).catch(() => {})
  await servePairing(node.net, responder)
}

describe('pairing over the network', { timeout: 60_000 }, () => {
  it('two nodes pair with a code: same string on both, the join and welcome cross; the code then is used', async (t) => {
    const network = await createMemoryNetwork(2)
    t.after(() => network.stop())
    const [oldNode, newNode] = network.nodes as [LateralNode, LateralNode]
    const [oldKey, newKey] = network.keys
    const responder = new PairingResponder({
      signer: createDeviceSigner(newKey as never),
      addresses: () => newNode.net.addresses(),
    })
    t.after(() => responder.stop())
    await serveOwn(newNode, responder)
    const shown: Record<string, string> = {}
    const invitation = responder.invite({
      confirm: (s) => {
        shown.new = s
        return true
      },
      join: () => new TextEncoder().encode('join'),
    })
    assert.ok(decodePairingCode(invitation.code).addresses[0]?.startsWith('/memory/'))
    const started = performance.now()
    const result = await pairWithCode(oldNode.net, {
      signer: createDeviceSigner(oldKey as never),
      code: invitation.code,
      confirm: (s) => {
        shown.old = s
        return true
      },
      welcome: (join) => Uint8Array.from([...join, 1, 2, 3]),
    })
    const welcomed = await invitation.result
    const ms = performance.now() - started
    t.diagnostic(`pairing over the memory transport took ${ms.toFixed(1)} ms (dial included)`)
    assert.ok(sameShortString(shown.old ?? '', shown.new ?? ''))
    assert.equal(result.peerId, newNode.net.peerId)
    assert.equal(welcomed.peerId, oldNode.net.peerId)
    assert.deepEqual(welcomed.welcome, Uint8Array.from([...new TextEncoder().encode('join'), 1, 2, 3]))

    await assert.rejects(
      pairWithCode(oldNode.net, {
        signer: createDeviceSigner(oldKey as never),
        code: invitation.code,
        confirm: () => true,
        welcome: () => new Uint8Array(0),
      }),
      { name: 'PairingCodeUsedError' },
    )
  })

  it('a refusal on the old device aborts both nodes, with the prompt on the new one closed', async (t) => {
    const network = await createMemoryNetwork(2)
    t.after(() => network.stop())
    const [oldNode, newNode] = network.nodes as [LateralNode, LateralNode]
    const responder = new PairingResponder({
      signer: createDeviceSigner(network.keys[1] as never),
      addresses: () => newNode.net.addresses(),
    })
    t.after(() => responder.stop())
    await serveOwn(newNode, responder)
    let promptClosed = false
    const invitation = responder.invite({
      confirm: (_s, { signal }) =>
        new Promise<boolean>((_, reject) =>
          signal.addEventListener('abort', () => {
            promptClosed = true
            reject(signal.reason)
          }),
        ),
      join: () => assert.fail('no join without both confirmations'),
    })
    await assert.rejects(
      pairWithCode(oldNode.net, {
        signer: createDeviceSigner(network.keys[0] as never),
        code: invitation.code,
        confirm: () => false,
        welcome: () => assert.fail('no welcome without both confirmations'),
      }),
      { name: 'PairingAbortedError' },
    )
    await assert.rejects(invitation.result, { name: 'PairingAbortedError', message: /refused/ })
    assert.ok(promptClosed)
  })
})
