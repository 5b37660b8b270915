/** The `lateral` command line: one commander program, a file per group of commands. */
import { Command } from 'commander'
import { VERSION } from '../core/constants.ts'
import { registerDaemon } from './commands/daemon.ts'
import { registerDoctor } from './commands/doctor.ts'
import { registerInit } from './commands/init.ts'
import { registerNodeInfo } from './commands/node-info.ts'
import { registerPeers } from './commands/peers.ts'
import { registerUi } from './commands/ui.ts'
import { examples } from './output.ts'
import { SERVICE_COMMANDS } from './service-commands.ts'

export function buildProgram(): Command {
  const program = new Command('lateral')
    .description('Lateral: a peer-to-peer node. Every command but init/daemon/start talks to the running daemon.')
    .version(VERSION, '-V, --version')
    .option('--home <dir>', 'node home (default $LATERAL_HOME, else ~/.lateral)')
    .option('--json', 'machine-readable JSON output')
    .showHelpAfterError('(add --help for usage)')
    // Set before the subcommands exist, so they inherit it: main() maps errors to exit codes.
    .exitOverride()
    .addHelpText(
      'after',
      `${examples('lateral start', 'lateral id', 'lateral peers --json', 'lateral add ./photos', 'lateral get bafybei... -o ./photos')}
Exit codes: 0 ok, 1 failure, 2 usage/invalid input, 3 no daemon, 4 passphrase, 5 keystore damaged or missing,
6 already exists/running or address in use, 7 unauthorised, 8 peer unreachable, 9 timeout,
10 outbox full, 11 message refused, 12 no provider, 13 disk full (docs/errors.md).
`,
    )
  registerInit(program)
  registerDaemon(program)
  registerNodeInfo(program)
  registerDoctor(program)
  registerPeers(program)
  // In the registry's order (service-commands.ts lists them so); the registry itself is not
  // imported here: it loads every service, and a command that only calls the daemon would wait
  // ~0.8 s for it.
  for (const register of Object.values(SERVICE_COMMANDS)) register(program)
  registerUi(program)
  return program
}
