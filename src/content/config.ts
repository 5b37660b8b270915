/** The `content` section of config.json (docs/config.md, docs/protocols/blocks.md). */
import { DEFAULT_CONTENT } from '../core/constants.ts'
import { count, millis, type Static, section } from '../core/settings.ts'

export const contentConfig = section('File sharing. Rates are bytes per second, 0 = unlimited.', {
  uploadLimit: count(
    'bytes per second sent to all peers together; 0 = unlimited. The flag takes `10M`, `512k`, ...',
    DEFAULT_CONTENT.uploadLimit,
    {
      flag: '--upload-limit RATE',
    },
  ),
  downloadLimit: count(
    'bytes per second received from all peers together; 0 = unlimited',
    DEFAULT_CONTENT.downloadLimit,
    {
      flag: '--download-limit RATE',
    },
  ),
  uploadSlots: count(
    'blocks being sent at once across peers, taken in turn one block per turn',
    DEFAULT_CONTENT.uploadSlots,
    {
      minimum: 1,
    },
  ),
  banAfter: count(
    'corrupt blocks after which a peer is refused (never asked, never served)',
    DEFAULT_CONTENT.banAfter,
    {
      minimum: 1,
    },
  ),
  providerTimeoutMs: millis(
    'a download fails with NoProvidersError when no block arrives and no provider appears for this long',
    DEFAULT_CONTENT.providerTimeoutMs,
    { flag: 'get --timeout S' },
  ),
  blockTimeoutMs: millis(
    "a request unanswered this long (or 4x the peer's expected time) is moved to other peers",
    DEFAULT_CONTENT.blockTimeoutMs,
  ),
  maxPeers: count('peers asked in one download', DEFAULT_CONTENT.maxPeers, { minimum: 1 }),
  providerSearchIntervalMs: millis(
    'how often the DHT is asked again for providers while a download runs',
    DEFAULT_CONTENT.providerSearchIntervalMs,
  ),
  reprovideIntervalMs: count(
    'every pinned root is announced again in the DHT this often, ms (0 = never)',
    DEFAULT_CONTENT.reprovideIntervalMs,
  ),
})
export type ContentConfig = Static<typeof contentConfig>
