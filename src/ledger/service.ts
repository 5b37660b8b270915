/** The ledger service's entry in the node's registry (src/node/registry.ts). */
import { defineService } from '../core/service.ts'
import { ledgerConfig } from './config.ts'
import { Ledger, type LedgerComponents } from './ledger.ts'

export const ledgerService = defineService({
  name: 'ledger',
  config: ledgerConfig,
  events: ['ledger:receipt', 'ledger:fork'],
  create: (components: LedgerComponents, config) => new Ledger(components, config),
})
