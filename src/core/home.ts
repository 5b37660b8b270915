/** Where things live under a node's home (`LATERAL_HOME`, default `~/.lateral`). */
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { ENV_HOME } from './constants.ts'

export interface HomePaths {
  home: string
  config: string
  keystore: string
  datastore: string
  blocks: string
  api: string
  /** The API token, kept across restarts (mode 0600); delete it to issue a new one. */
  apiToken: string
  logs: string
}

/** The home to use: explicit option, else `$LATERAL_HOME`, else `~/.lateral`. */
export function resolveHome(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env[ENV_HOME]
  return resolve(chosen !== undefined && chosen !== '' ? chosen : join(homedir(), '.lateral'))
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    config: join(home, 'config.json'),
    keystore: join(home, 'keystore'),
    datastore: join(home, 'datastore'),
    blocks: join(home, 'blocks'),
    api: join(home, 'api.json'),
    apiToken: join(home, 'api-token'),
    logs: join(home, 'logs'),
  }
}
