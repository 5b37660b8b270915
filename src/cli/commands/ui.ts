import { spawn } from 'node:child_process'
import type { Command } from 'commander'
import type { LoginReply } from '../../daemon/schemas.ts'
import { ApiClient } from '../client.ts'
import { emit, examples, globals, warn } from '../output.ts'

/** The platform's "open this URL" program, if it has one. */
function opener(): { command: string; args: string[] } | undefined {
  if (process.platform === 'darwin') return { command: 'open', args: [] }
  if (process.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""'] }
  if (process.env.DISPLAY === undefined && process.env.WAYLAND_DISPLAY === undefined) return undefined
  return { command: 'xdg-open', args: [] }
}

/** Open the URL in the default browser; false when there is none to open it with. */
async function openBrowser(url: string): Promise<boolean> {
  const how = opener()
  if (how === undefined) return false
  return new Promise((resolve) => {
    const child = spawn(how.command, [...how.args, url], { stdio: 'ignore', detached: true })
    child.once('error', () => resolve(false))
    child.once('spawn', () => {
      child.unref()
      resolve(true)
    })
  })
}

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description(
      'open the dashboard in the default browser, signed in through a one-time link (works once, for 2 minutes)',
    )
    .option('--no-open', 'only print the link')
    .addHelpText('after', examples('lateral ui', 'lateral ui --no-open', 'lateral ui --json | jq -r .url'))
    .action(async (opts: { open: boolean }, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      const login = await client.post<LoginReply>('/v1/ui/login', {})
      const url = `${client.info.url}${login.path}`
      const opened = opts.open && !g.json ? await openBrowser(url) : false
      if (opts.open && !opened && !g.json) warn('no browser to open here: open the link below yourself')
      emit(g, { url, expiresAt: login.expiresAt, opened }, () =>
        [
          url,
          `This link signs a browser in once and expires at ${new Date(login.expiresAt).toLocaleTimeString()}.`,
        ].join('\n'),
      )
    })
}
