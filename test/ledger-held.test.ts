// Receipts of storage kept (issue 14 with issue 12): a keeper's ledger counts the bytes it keeps
// for the device that asked, and the two co-sign a receipt of kind storage that carries them.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

describe('receipts of storage kept', () => {
  it('the keeper and the owner co-sign a storage receipt with the bytes kept', async () => {
    const network = await createMemoryNetwork(2)
    try {
      const [owner, keeper] = network.nodes as [LateralNode, LateralNode]
      await network.connectAll()
      const [grant] = await owner.delegation.grant({
        to: keeper.peerId,
        can: 'store/put',
        quota: 8 << 20,
        until: Date.now() + 3_600_000,
      })
      await waitFor(async () => (await owner.delegation.show(grant?.cid as string)).delivered === true, {
        what: 'the grant',
        timeoutMs: 20_000,
      })
      const bytes = randomBytes(300_000)
      const { cid } = await owner.content.add([{ path: 'f', content: [bytes], size: bytes.length }])
      const [put] = await owner.storage.put(cid, keeper.peerId)
      assert.equal(put?.status, 'kept', put?.error)
      const outcome = await keeper.ledger.settle(owner.peerId, 'storage')
      assert.equal(outcome?.status, 'agreed', JSON.stringify(outcome))
      const mine = keeper.ledger.summary().counterparties.find((c) => c.peer === owner.peerId)
      assert.equal(mine?.held, put?.size, 'the keeper holds what it kept')
      const theirs = owner.ledger.summary().counterparties.find((c) => c.peer === keeper.peerId)
      assert.ok(theirs !== undefined, 'the owner holds the same receipt')
    } finally {
      await network.stop()
    }
  })
})
