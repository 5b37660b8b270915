// Contacts: local names for identities, checked and kept in the datastore.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../src/core/errors.ts'
import { ContactBook, contactName, isIdentityId } from '../src/identity/contacts/contact-book.ts'

const ADA = 'bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
const BOB = 'bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae'
const PEER = '12D3KooWCCBFTruPHyVkSLpniLnfM7Bzg4u5bAhvveuXDtChCdjw'

describe('contact book', () => {
  it('adds, lists, resolves and removes names; survives a reopen of the same datastore', async () => {
    const ds = new MemoryDatastore()
    const book = new ContactBook(ds)
    await book.add('ada', ADA, 1)
    await book.add('Bob Smith', BOB, 2)
    await book.add('ada-work', ADA, 3)
    const again = new ContactBook(ds)
    assert.deepEqual(
      (await again.list()).map((c) => c.name),
      ['ada', 'ada-work', 'Bob Smith'],
    )
    assert.deepEqual(await again.resolve('ada'), { identity: ADA, contact: 'ada' })
    assert.deepEqual(await again.resolve(BOB), { identity: BOB })
    assert.deepEqual(await again.resolve(PEER), { peerId: PEER })
    assert.deepEqual(await again.namesOf(ADA), ['ada', 'ada-work'])
    await again.remove('ada')
    await assert.rejects(again.get('ada'), NotFoundError)
  })

  it('refuses bad names, bad identity IDs, duplicates and a full book', async () => {
    const book = new ContactBook(new MemoryDatastore(), { max: 2 })
    for (const bad of ['', ' ', '-x', 'a/b', 'x'.repeat(65), 'tab\there', '../etc']) {
      assert.throws(() => contactName(bad), InvalidInputError, JSON.stringify(bad))
    }
    assert.equal(contactName('  Zoë  '), 'Zoë')
    await assert.rejects(book.add('ada', PEER), /not an identity ID/)
    await assert.rejects(book.add('ada', 'bafkqaaa'), /not an identity ID/) // CIDv1 but raw, not DAG-CBOR
    await book.add('ada', ADA)
    await assert.rejects(book.add('ada', BOB), AlreadyExistsError)
    await book.add('bob', BOB)
    await assert.rejects(book.add('carol', BOB), /contact list is full/)
    assert.equal(isIdentityId(ADA), true)
    assert.equal(isIdentityId(PEER), false)
  })
})
