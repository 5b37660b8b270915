/**
 * Contacts: local names (petnames) for identities. There is no global namespace: a name means
 * something on this node only, and two people may call the same identity differently.
 * Stored in the datastore under `/lateral/contacts/<name>`.
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { DEFAULT_CONTACTS_MAX } from '../../core/constants.ts'
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../../core/errors.ts'
import type { Datastore } from '../../store/datastore.ts'

const PREFIX = '/lateral/contacts/'
const NAME = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u
const DAG_CBOR = 0x71

export interface Contact {
  name: string
  identity: string
  addedAt: number
}

export interface ContactBookInit {
  /** Contacts kept at most (DEFAULT_CONTACTS_MAX). */
  max?: number
  /** Called after a contact is added. */
  onAdd?: (contact: Contact) => void
}

/** A contact name: 1..64 letters, digits, spaces, `.`, `_` or `-`, starting with a letter or digit (NFC). */
export function contactName(name: string): string {
  const normal = name.normalize('NFC').trim()
  if (!NAME.test(normal)) {
    throw new InvalidInputError(
      `invalid contact name ${JSON.stringify(name)}: 1-64 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit`,
    )
  }
  return normal
}

/** An identity ID is the CID (DAG-CBOR) of the identity's genesis entry. */
export function identityId(value: string): string {
  let cid: CID
  try {
    cid = CID.parse(value)
  } catch {
    throw new InvalidInputError(`not an identity ID: ${JSON.stringify(value.slice(0, 80))}`)
  }
  if (cid.code !== DAG_CBOR || cid.version !== 1) throw new InvalidInputError(`not an identity ID: ${value}`)
  return cid.toString()
}

/** Whether a string is an identity ID (a CIDv1 of DAG-CBOR), as opposed to a peer ID or a name. */
export function isIdentityId(value: string): boolean {
  try {
    const cid = CID.parse(value)
    return cid.code === DAG_CBOR && cid.version === 1
  } catch {
    return false
  }
}

export class ContactBook {
  readonly #ds: Datastore
  readonly #max: number
  readonly #onAdd: ((contact: Contact) => void) | undefined

  constructor(datastore: Datastore, init: ContactBookInit = {}) {
    this.#ds = datastore
    this.#max = init.max ?? DEFAULT_CONTACTS_MAX
    this.#onAdd = init.onAdd
  }

  async add(name: string, identity: string, now = Date.now()): Promise<Contact> {
    const contact = { name: contactName(name), identity: identityId(identity), addedAt: now }
    const key = keyOf(contact.name)
    if (await this.#ds.has(key)) throw new AlreadyExistsError(`a contact named "${contact.name}" exists`)
    if ((await this.list()).length >= this.#max)
      throw new InvalidInputError(`the contact list is full (${this.#max} contacts)`)
    await this.#ds.put(key, cbor.encode(contact))
    this.#onAdd?.(contact)
    return contact
  }

  async remove(name: string): Promise<Contact> {
    const contact = await this.get(name)
    await this.#ds.delete(keyOf(contact.name))
    return contact
  }

  async get(name: string): Promise<Contact> {
    const key = keyOf(contactName(name))
    if (!(await this.#ds.has(key))) throw new NotFoundError(`no contact named "${name}"`)
    return cbor.decode(await this.#ds.get(key)) as Contact
  }

  async list(): Promise<Contact[]> {
    const contacts: Contact[] = []
    for await (const { value } of this.#ds.query({ prefix: PREFIX })) contacts.push(cbor.decode(value) as Contact)
    return contacts.sort((a, b) => a.name.localeCompare(b.name))
  }

  /** The contact names of an identity (there may be several, or none). */
  async namesOf(identity: string): Promise<string[]> {
    return (await this.list()).filter((c) => c.identity === identity).map((c) => c.name)
  }

  /** A name, an identity ID or a peer ID as given by a user: the identity ID for a name, else the input. */
  async resolve(target: string): Promise<{ identity?: string; peerId?: string; contact?: string }> {
    if (NAME.test(target.normalize('NFC')) && (await this.#ds.has(keyOf(contactName(target))))) {
      const c = await this.get(target)
      return { identity: c.identity, contact: c.name }
    }
    return isIdentityId(target) ? { identity: identityId(target) } : { peerId: target }
  }
}

function keyOf(name: string): Key {
  return new Key(`${PREFIX}${encodeURIComponent(name)}`)
}
