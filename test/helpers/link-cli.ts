/** Linking devices across daemons through the CLI, as a script would (issue 11). */
import type { Testnet } from '../../src/testing/testnet.ts'

export interface Linking {
  code: number | null
  other: number | null
  stderr: string
}

/** `device link` on `fresh`, `device add CODE` on `member`; each types what the other printed (or `typed`). */
export async function linkByCli(
  net: Testnet,
  member: number,
  fresh: number,
  typed?: (s: string) => string,
): Promise<Linking> {
  const link = net.spawnCli(fresh, ['device', 'link', '--name', `device-${fresh}`, '--json'], { stdin: true })
  const codeLine = await link.waitForLine((l) => l.includes('"code"'))
  const code = (JSON.parse(codeLine) as { code: string }).code
  const add = net.spawnCli(member, ['device', 'add', code, '--json'], { stdin: true })
  const [a, b] = await Promise.all([
    link.waitForLine((l) => l.includes('"shortString"'), 30_000),
    add.waitForLine((l) => l.includes('"shortString"'), 30_000),
  ])
  const onFresh = (JSON.parse(a) as { shortString: string }).shortString
  const onMember = (JSON.parse(b) as { shortString: string }).shortString
  add.writeLine(onFresh)
  link.writeLine(typed === undefined ? onMember : typed(onMember))
  const [code1, code2] = await Promise.all([link.exited(), add.exited()])
  return { code: code1, other: code2, stderr: link.stderr() + add.stderr() }
}
