/** Entry point of the `lateral` command: run the program, turn errors into one line and an exit code. */
import { CommanderError } from 'commander'
import { EXIT_USAGE, errorEntry } from '../core/error-registry.ts'
import { LateralError } from '../core/errors.ts'
import { buildProgram } from './program.ts'

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram()
  const json = argv.includes('--json')
  try {
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version "errors" are successes; anything else is a usage error already printed.
      return err.exitCode === 0 ? 0 : EXIT_USAGE
    }
    const e = err instanceof Error ? err : new Error(String(err))
    const entry = errorEntry(e.name)
    if (json) {
      process.stderr.write(`${JSON.stringify({ error: { name: entry.name, code: entry.code, message: e.message } })}\n`)
    } else if (entry.name === 'InternalError' && !(e instanceof LateralError)) {
      process.stderr.write(`lateral: unexpected error: ${e.stack ?? e.message}\n`)
    } else {
      process.stderr.write(`lateral: ${e.message}\n`)
    }
    return entry.exit
  }
}

const code = await main()
// Exit once stdout has drained: libraries may keep timers alive after a command is done.
process.stdout.write('', () => process.exit(code))
