/** The content service's entry in the node's registry (src/node/registry.ts). */
import { defineService } from '../core/service.ts'
import { contentConfig } from './config.ts'
import { Content, type ContentComponents } from './content.ts'

export const contentService = defineService({
  name: 'content',
  config: contentConfig,
  events: [],
  create: (components: ContentComponents, config) => new Content(components, config),
})
