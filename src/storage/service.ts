/** The storage service's entry in the node's registry (src/node/registry.ts). */
import { defineService } from '../core/service.ts'
import { storageConfig } from './config.ts'
import { createStorage, type StorageComponents } from './storage.ts'

export const storageService = defineService({
  name: 'storage',
  config: storageConfig,
  events: [
    'storage:kept',
    'storage:dropped',
    'storage:refused',
    'storage:placed',
    'storage:withdrawn',
    'storage:checked',
  ],
  create: (components: StorageComponents, config) => createStorage(config, components),
})
