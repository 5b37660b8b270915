import { mkdir } from 'node:fs/promises'
import type { Command } from 'commander'
import { homePaths } from '../../core/home.ts'
import { createKeystore } from '../../identity/keystore.ts'
import { emit, examples, type Globals, globals, warn } from '../output.ts'
import { passphraseForCreate } from '../passphrase.ts'

export interface InitResult {
  peerId: string
  home: string
  passphrase: string | undefined
}

/** Create the home, its device key and a default config.json. Never overwrites a key. */
export async function initHome(g: Globals, noPassphrase: boolean): Promise<InitResult> {
  const paths = homePaths(g.home)
  const passphrase = await passphraseForCreate(noPassphrase, warn)
  await mkdir(paths.home, { recursive: true, mode: 0o700 })
  const key = await createKeystore(paths.home, passphrase === undefined ? {} : { passphrase })
  // Loaded here, not at the top: the config pulls in every service, and every other command
  // would pay for it at startup.
  const { writeDefaultConfig } = await import('../../node/config.ts')
  await writeDefaultConfig(paths.config)
  const { peerIdFromSeed } = await import('../../net/index.ts')
  return { peerId: await peerIdFromSeed(key.seed), home: paths.home, passphrase }
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description("create this device's key (encrypted at rest) and a default config.json in the home")
    .option('--no-passphrase', 'store the key without a passphrase (warns; anyone who can read the home can use it)')
    .addHelpText(
      'after',
      examples(
        'lateral init                                # asks for a passphrase',
        'LATERAL_PASSPHRASE=... lateral init          # non-interactive',
        'lateral init --home /tmp/node2 --no-passphrase',
      ),
    )
    .action(async (opts: { passphrase: boolean }, cmd: Command) => {
      const g = globals(cmd)
      const result = await initHome(g, opts.passphrase === false)
      emit(
        g,
        { peerId: result.peerId, home: result.home },
        () => `Created device key ${result.peerId}\nHome: ${result.home}`,
      )
    })
}
