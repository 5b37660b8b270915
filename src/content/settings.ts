/** Defaults of the content service (config.json "content", docs/config.md). */
import { DEFAULT_CONTENT as DEFAULTS } from '../core/constants.ts'
import type { ContentInit } from './content.ts'

export const DEFAULT_CONTENT: ContentInit = { ...DEFAULTS }
