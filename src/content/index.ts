export { BLOCKS_PROTOCOL } from './blocks-message.ts'
export {
  type AddedEntry,
  type AddProgress,
  type AddResult,
  Content,
  type ContentComponents,
  type ContentInit,
  type FolderEntry,
  type GetOptions,
  type GetResult,
  type Pin,
  type Provider,
} from './content.ts'
export type { FetchProgress, FetchResult, PeerState, PeerTally } from './fetch-progress.ts'
export type { GcResult } from './gc.ts'
export { type AddOptions, parseChunker } from './import-options.ts'
export type { Candidate } from './local-source.ts'
export { DEFAULT_CONTENT } from './settings.ts'
