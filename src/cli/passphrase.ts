/** Getting the keystore passphrase: LATERAL_PASSPHRASE, an interactive prompt, or none (warned). */
import { ENV_PASSPHRASE } from '../core/constants.ts'
import { PassphraseRequiredError } from '../core/errors.ts'

/** Read a line from the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process
  if (!stdin.isTTY) throw new PassphraseRequiredError('no terminal to ask for a passphrase')
  stderr.write(question)
  stdin.setRawMode(true)
  stdin.resume()
  stdin.setEncoding('utf8')
  return new Promise((resolve, reject) => {
    let value = ''
    const finish = (err?: Error) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      stderr.write('\n')
      if (err === undefined) resolve(value)
      else reject(err)
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish()
        if (ch === '\u0003') return finish(new PassphraseRequiredError('cancelled at the passphrase prompt'))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else if (ch >= ' ') value += ch
      }
    }
    stdin.on('data', onData)
  })
}

const NO_SOURCE = `set ${ENV_PASSPHRASE}, run the command in a terminal, or create the key with --no-passphrase`

/** The passphrase to unlock an existing protected keystore. */
export async function passphraseForUnlock(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env[ENV_PASSPHRASE]
  if (fromEnv !== undefined) return fromEnv
  if (!process.stdin.isTTY) throw new PassphraseRequiredError(`the keystore is protected by a passphrase: ${NO_SOURCE}`)
  return promptHidden('Passphrase: ')
}

/** The passphrase for a new keystore; `undefined` means none (after a warning). */
export async function passphraseForCreate(
  noPassphrase: boolean,
  warn: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (noPassphrase) {
    warn('warning: the device key is stored without a passphrase; anyone who can read the home can use it')
    return undefined
  }
  const fromEnv = env[ENV_PASSPHRASE]
  if (fromEnv !== undefined) {
    if (fromEnv === '')
      throw new PassphraseRequiredError(`${ENV_PASSPHRASE} is empty; use --no-passphrase to store the key without one`)
    return fromEnv
  }
  if (!process.stdin.isTTY) throw new PassphraseRequiredError(`a new device key needs a passphrase: ${NO_SOURCE}`)
  for (;;) {
    const first = await promptHidden('New passphrase for this device key: ')
    if (first === '') {
      warn('the passphrase is empty; type one, or press Ctrl-C and use --no-passphrase')
      continue
    }
    const again = await promptHidden('Repeat passphrase: ')
    if (first === again) return first
    warn('the two passphrases differ; try again')
  }
}
