/** Reading a confirmation from a person at a prompt, or from a script writing to a pipe. */
import { createInterface } from 'node:readline'
import { AbortedError } from '../../core/errors.ts'

/** One line from standard input (a person at a prompt, or a script writing to a pipe). */
export async function readLine(prompt: string, interactive: boolean, signal: AbortSignal): Promise<string> {
  const rl = createInterface({ input: process.stdin, ...(interactive ? { output: process.stderr } : {}) })
  const onAbort = () => rl.close()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('close', () => reject(new AbortedError('no confirmation: standard input closed')))
      if (interactive) rl.question(prompt, resolve)
      else rl.once('line', resolve)
    })
  } finally {
    signal.removeEventListener('abort', onAbort)
    rl.close()
  }
}
