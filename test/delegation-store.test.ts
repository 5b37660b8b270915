// The delegation store's bounds (issue 12): revocations are kept before the delegation they name
// arrives, so one signer must not be able to fill the store; the replay record survives a restart.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { DelegationStore } from '../src/delegation/store.ts'
import { signDelegation, signRevocation } from '../src/delegation/ucan/index.ts'
import { newDevice } from './helpers/identity-devices.ts'

const init = { delegationsMax: 100, revocationsMax: 100, replayMax: 100, perRevokerMax: 2 }

describe('delegation store', () => {
  it('keeps at most perRevokerMax revocations of one signer; others still get in', async () => {
    const ds = new MemoryDatastore()
    const store = new DelegationStore(ds, init)
    await store.load()
    const [flooder, other] = [newDevice(), newDevice()]
    const revoke = async (by: ReturnType<typeof newDevice>) => {
      const d = await signDelegation(by, { aud: newDevice().did, sub: by.did, cmd: '/store/put', exp: 2_000_000_000 })
      return signRevocation(by, [d])
    }
    assert.equal(await store.putRevocation(await revoke(flooder)), true)
    assert.equal(await store.putRevocation(await revoke(flooder)), true)
    await assert.rejects(store.putRevocation(await revoke(flooder)), {
      name: 'StorageFullError',
      message: /perRevokerMax/,
    })
    assert.equal(await store.putRevocation(await revoke(other)), true)
    // Reloaded from the datastore, the count holds.
    const again = new DelegationStore(ds, init)
    await again.load()
    await assert.rejects(again.putRevocation(await revoke(flooder)), { name: 'StorageFullError' })
  })

  it('remembers claimed invocations across a restart', async () => {
    const ds = new MemoryDatastore()
    const store = new DelegationStore(ds, init)
    await store.load()
    const now = Math.floor(Date.now() / 1000)
    assert.equal(await store.replay.claim('bafyinvocation', now + 60, now), true)
    assert.equal(await store.replay.claim('bafyinvocation', now + 60, now), false)
    const again = new DelegationStore(ds, init)
    await again.load()
    assert.equal(await again.replay.claim('bafyinvocation', now + 60, now), false, 'still refused after a restart')
  })
})
