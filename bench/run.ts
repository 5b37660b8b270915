/** `npm run bench -- NAME [options]`: benchmarks are not tests; they measure and write JSON. */
import { benchDaemon } from './daemon.ts'
import { benchDashboard } from './dashboard.ts'
import { benchFloods } from './floods.ts'
import { benchGossip } from './gossip.ts'
import { benchKills } from './kills.ts'
import { benchLedger } from './ledger.ts'
import { benchNatlab } from './natlab.ts'
import { benchSim } from './sim.ts'
import { benchStack } from './stack.ts'
import { benchTransfer } from './transfer.ts'
import { benchTransferProfile } from './transfer-profile.ts'

const BENCHES: Record<string, (argv: string[]) => Promise<void>> = {
  stack: benchStack,
  daemon: benchDaemon,
  dashboard: benchDashboard,
  gossip: benchGossip,
  natlab: benchNatlab,
  ledger: benchLedger,
  transfer: benchTransfer,
  'transfer-profile': benchTransferProfile,
  sim: benchSim,
  floods: benchFloods,
  kills: benchKills,
}

const [name, ...rest] = process.argv.slice(2)
const bench = name === undefined ? undefined : BENCHES[name]
if (bench === undefined) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}> [options]`)
  process.exit(2)
}
await bench(rest)
