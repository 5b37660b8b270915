// Writes random 4 MiB blocks into an FsBlockstore until killed (used by the crash test).
import { randomBytes } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { FsBlockstore } from '../../src/store/blockstore.ts'

const bs = new FsBlockstore(process.argv[2] as string)
await bs.open()
process.stdout.write('ready\n')
for (;;) {
  const bytes = randomBytes(4 * 1024 * 1024)
  await bs.put(CID.createV1(raw.code, await sha256.digest(bytes)), bytes)
  process.stdout.write('stored\n')
}
