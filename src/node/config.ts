/**
 * `config.json` in the home: every setting with its documented default (docs/config.md).
 * Unknown keys and wrong types are errors, so a typo never silently falls back to a default.
 */
import { readFile, writeFile } from 'node:fs/promises'
import type { ContentInit } from '../content/index.ts'
import {
  DEFAULT_API,
  DEFAULT_CONTENT,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_DM_BURST,
  DEFAULT_DM_MAX_BYTES,
  DEFAULT_DM_PER_MINUTE,
  DEFAULT_INBOX_CAP,
  DEFAULT_LISTEN,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_INCOMING_PENDING,
  DEFAULT_OUTBOX_CAP,
  DEFAULT_TOPIC_MAX_BYTES,
} from '../core/constants.ts'
import { ConfigError } from '../core/errors.ts'

export interface LateralConfig {
  /** libp2p listen multiaddrs. */
  listen: string[]
  /** Daemon API address, `host:port` (port 0 picks a free one). */
  api: string
  /** Peers dialled at start: multiaddrs ending in /p2p/<peerId>. None by default. */
  bootstrap: string[]
  /** LAN discovery by multicast DNS. */
  mdns: boolean
  dht: { mode: 'server' | 'client' }
  /** Connection encrypters in order of preference. */
  encrypters: Array<'tls' | 'noise'>
  connections: {
    max: number
    maxIncomingPending: number
    dialTimeoutMs: number
    /** Discovered peers are dialled while fewer than this many are connected. */
    autoDialTarget: number
  }
  /** Collect Prometheus metrics for GET /metrics. */
  metrics: boolean
  messaging: {
    /** Largest topic message (encoded), bytes; checked before decoding. */
    topicMaxBytes: number
    /** Largest direct-message body, bytes. */
    dmMaxBytes: number
    /** Inbox size at which new messages are refused (they wait in the sender's outbox). */
    inboxCap: number
    /** Outbox size at which `send` fails with OutboxFullError. */
    outboxCap: number
    /** Direct messages a peer may send at once, and per minute after that. */
    dmBurst: number
    dmPerMinute: number
  }
  /** File sharing (docs/protocols/blocks.md). Limits are bytes per second, 0 = unlimited. */
  content: ContentInit
}

export type ConfigOverrides = Partial<Omit<LateralConfig, 'dht' | 'connections' | 'messaging' | 'content'>> & {
  dht?: Partial<LateralConfig['dht']>
  connections?: Partial<LateralConfig['connections']>
  messaging?: Partial<LateralConfig['messaging']>
  content?: Partial<LateralConfig['content']>
}

export function defaultConfig(): LateralConfig {
  return {
    listen: [...DEFAULT_LISTEN],
    api: DEFAULT_API,
    bootstrap: [],
    mdns: true,
    dht: { mode: 'server' },
    encrypters: ['tls', 'noise'],
    connections: {
      max: DEFAULT_MAX_CONNECTIONS,
      maxIncomingPending: DEFAULT_MAX_INCOMING_PENDING,
      dialTimeoutMs: DEFAULT_DIAL_TIMEOUT_MS,
      autoDialTarget: 50,
    },
    metrics: true,
    messaging: {
      topicMaxBytes: DEFAULT_TOPIC_MAX_BYTES,
      dmMaxBytes: DEFAULT_DM_MAX_BYTES,
      inboxCap: DEFAULT_INBOX_CAP,
      outboxCap: DEFAULT_OUTBOX_CAP,
      dmBurst: DEFAULT_DM_BURST,
      dmPerMinute: DEFAULT_DM_PER_MINUTE,
    },
    content: { ...DEFAULT_CONTENT },
  }
}

/** Defaults, then the file's values, then the overrides (command-line flags). */
export function mergeConfig(base: LateralConfig, overrides: ConfigOverrides): LateralConfig {
  return {
    ...base,
    ...stripUndefined(overrides),
    dht: { ...base.dht, ...stripUndefined(overrides.dht ?? {}) },
    connections: { ...base.connections, ...stripUndefined(overrides.connections ?? {}) },
    messaging: { ...base.messaging, ...stripUndefined(overrides.messaging ?? {}) },
    content: { ...base.content, ...stripUndefined(overrides.content ?? {}) },
  } as LateralConfig
}

export async function loadConfig(path: string): Promise<LateralConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultConfig()
    throw err
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`${path} is not valid JSON: ${(err as Error).message}`)
  }
  return mergeConfig(defaultConfig(), validateConfig(parsed, path))
}

export async function writeDefaultConfig(path: string): Promise<void> {
  await writeFile(path, `${JSON.stringify(defaultConfig(), null, 2)}\n`, { flag: 'wx', mode: 0o644 }).catch((err) => {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  })
}

type Check = (value: unknown) => boolean
const isString: Check = (v) => typeof v === 'string'
const isBool: Check = (v) => typeof v === 'boolean'
const isStrings: Check = (v) => Array.isArray(v) && v.every(isString)
const isCount: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0
const isPositive: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v > 0
const isEncrypters: Check = (v) => Array.isArray(v) && v.length > 0 && v.every((e) => e === 'tls' || e === 'noise')

const SCHEMA: Record<string, Check | Record<string, Check>> = {
  listen: isStrings,
  api: (v) => isString(v) && parseHostPort(v as string) !== undefined,
  bootstrap: isStrings,
  mdns: isBool,
  encrypters: isEncrypters,
  metrics: isBool,
  dht: { mode: (v) => v === 'server' || v === 'client' },
  connections: { max: isCount, maxIncomingPending: isCount, dialTimeoutMs: isCount, autoDialTarget: isCount },
  messaging: {
    topicMaxBytes: isPositive,
    dmMaxBytes: isPositive,
    inboxCap: isCount,
    outboxCap: isCount,
    dmBurst: isPositive,
    dmPerMinute: isPositive,
  },
  content: {
    uploadLimit: isCount,
    downloadLimit: isCount,
    uploadSlots: isPositive,
    banAfter: isPositive,
    providerTimeoutMs: isPositive,
    blockTimeoutMs: isPositive,
    maxPeers: isPositive,
    providerSearchIntervalMs: isPositive,
    reprovideIntervalMs: isCount,
  },
}

/** Check a parsed config object against the schema; returns it typed as overrides. */
export function validateConfig(value: unknown, source = 'config'): ConfigOverrides {
  if (!isObject(value)) throw new ConfigError(`${source}: expected a JSON object`)
  for (const [key, v] of Object.entries(value)) {
    const check = SCHEMA[key]
    if (check === undefined) throw new ConfigError(`${source}: unknown setting "${key}"`)
    if (typeof check === 'function') {
      if (!check(v)) throw new ConfigError(`${source}: invalid value for "${key}": ${JSON.stringify(v)}`)
      continue
    }
    if (!isObject(v)) throw new ConfigError(`${source}: "${key}" must be an object`)
    for (const [sub, sv] of Object.entries(v)) {
      const subCheck = check[sub]
      if (subCheck === undefined) throw new ConfigError(`${source}: unknown setting "${key}.${sub}"`)
      if (!subCheck(sv)) throw new ConfigError(`${source}: invalid value for "${key}.${sub}": ${JSON.stringify(sv)}`)
    }
  }
  return value as ConfigOverrides
}

/** Parse `host:port` or `[v6]:port`; undefined when malformed. */
export function parseHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value)
  if (m === null) return undefined
  const port = Number(m[3])
  if (port > 65535) return undefined
  return { host: (m[1] ?? m[2]) as string, port }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
