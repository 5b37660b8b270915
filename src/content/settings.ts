/** Defaults of the content service (config.json "content", docs/config.md). */
import type { ContentInit } from './content.ts'

export const DEFAULT_CONTENT: ContentInit = {
  uploadLimit: 0,
  downloadLimit: 0,
  uploadSlots: 8,
  banAfter: 3,
  providerTimeoutMs: 60_000,
  blockTimeoutMs: 10_000,
  maxPeers: 32,
  providerSearchIntervalMs: 10_000,
  reprovideIntervalMs: 12 * 60 * 60_000,
}
