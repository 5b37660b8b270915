/**
 * `config.json` in the home, declared once: the schema below is built from the network's
 * settings, the daemon's and each registered service's section. Defaults, validation (unknown
 * keys and wrong types are errors naming the key, so a typo never silently falls back to a
 * default), the TypeScript type and docs/config.md all come from it.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { type TSchema, Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import {
  DEFAULT_API,
  DEFAULT_API_BODY_LIMIT,
  DEFAULT_BANDWIDTH_SAMPLES,
  DEFAULT_DAEMON_HEAP_GROWING_PERCENT,
  DEFAULT_DOWNLOAD_LINK_TTL_MS,
  DEFAULT_DOWNLOAD_LINKS_MAX,
  DEFAULT_EVENTS_CLIENT_BUFFER_BYTES,
  DEFAULT_EVENTS_DROP_GRACE_MS,
  DEFAULT_LOGIN_CODES_MAX,
  DEFAULT_LOGIN_TTL_MS,
  DEFAULT_TOPIC_LOG_SIZE,
  DEFAULT_TRANSFER_PROGRESS_MS,
  DEFAULT_TRANSFERS_KEPT,
  DEFAULT_UPLOADS_OPEN,
  EVENTS_HEARTBEAT_MS,
} from '../core/constants.ts'
import { ConfigError } from '../core/errors.ts'
import { count, millis, type Overrides, type Static, section } from '../core/settings.ts'
import { netSettings } from '../net/config.ts'
import { SERVICES, type ServiceConfigs } from './registry.ts'

const daemonSettings = {
  api: Type.String({
    pattern: '^(?:\\[[^\\]]+\\]|[^:\\[\\]]+):\\d{1,5}$',
    maxLength: 300,
    default: DEFAULT_API,
    description:
      'daemon API address, `host:port`; port 0 picks a free port (read it from `api.json`). Beyond loopback the daemon warns.',
    flag: '--api HOST:PORT',
    errorMessage: 'expected host:port or [v6]:port',
  }),
  daemon: section('The daemon: HTTP API, event streams and the dashboard', {
    bodyLimitBytes: count('largest JSON request body the API accepts, bytes', DEFAULT_API_BODY_LIMIT, {
      minimum: 1024,
    }),
    eventBufferBytes: count(
      'bytes one /v1/events stream may hold for a reader that is behind; past it the stream ends with a `dropped` event',
      DEFAULT_EVENTS_CLIENT_BUFFER_BYTES,
      { minimum: 1024 },
    ),
    eventDropGraceMs: millis(
      'how long an ended or dropped event stream may take to deliver what it holds before its socket is closed',
      DEFAULT_EVENTS_DROP_GRACE_MS,
    ),
    eventHeartbeatMs: millis('interval of the keep-alive comment on event streams', EVENTS_HEARTBEAT_MS),
    loginCodeTtlMs: millis(
      'a dashboard sign-in link (`lateral ui`) works once, within this time',
      DEFAULT_LOGIN_TTL_MS,
    ),
    loginCodesMax: count('sign-in links alive at once (the oldest is dropped past it)', DEFAULT_LOGIN_CODES_MAX, {
      minimum: 1,
    }),
    downloadLinkTtlMs: millis('a dashboard download link works once, within this time', DEFAULT_DOWNLOAD_LINK_TTL_MS),
    downloadLinksMax: count('download links alive at once', DEFAULT_DOWNLOAD_LINKS_MAX, { minimum: 1 }),
    topicLogSize: count(
      'messages kept per topic joined through the API, for pages opened later',
      DEFAULT_TOPIC_LOG_SIZE,
      {
        minimum: 1,
      },
    ),
    uploadsOpen: count('dashboard uploads being filled at once', DEFAULT_UPLOADS_OPEN, { minimum: 1 }),
    transfersKept: count('finished transfers (add, get, pin) kept in the list', DEFAULT_TRANSFERS_KEPT),
    transferProgressMs: millis('a transfer sends a progress event at most this often', DEFAULT_TRANSFER_PROGRESS_MS),
    heapGrowingPercent: count(
      "the daemon's JavaScript heap may grow by this percent of what survived its last full collection before the next one (0: V8's own choice, which can fall to 10 % during transfers)",
      DEFAULT_DAEMON_HEAP_GROWING_PERCENT,
      { maximum: 400 },
    ),
    bandwidthSamples: count('one-second bandwidth samples kept for GET /v1/bandwidth', DEFAULT_BANDWIDTH_SAMPLES, {
      minimum: 2,
    }),
  }),
}

const nodeSettings = Type.Object({ ...netSettings, ...daemonSettings }, { additionalProperties: false })

/** The whole config.json schema: network and daemon keys, then one section per service. */
export const configSchema: TSchema = Type.Object(
  {
    ...netSettings,
    ...daemonSettings,
    ...Object.fromEntries(SERVICES.map((s) => [s.name, s.config])),
  },
  { additionalProperties: false },
)

export type LateralConfig = Static<typeof nodeSettings> & ServiceConfigs
export type ConfigOverrides = Overrides<LateralConfig>

export function defaultConfig(): LateralConfig {
  return Value.Default(configSchema, {}) as LateralConfig
}

/**
 * Defaults, then `base` (a file's values), then `overrides` (command-line flags); the result is
 * checked whole, so a bad flag is refused as clearly as a bad file.
 */
export function mergeConfig(
  base: ConfigOverrides | LateralConfig,
  overrides: ConfigOverrides,
  source = 'config',
): LateralConfig {
  const merged = deepMerge(structuredClone(base) as Record<string, unknown>, overrides as Record<string, unknown>)
  return validateConfig(Value.Default(configSchema, merged), source) as LateralConfig
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
  if (!isObject(parsed)) throw new ConfigError(`${path}: expected a JSON object`)
  return mergeConfig(validateConfig(parsed, path), {}, path)
}

export async function writeDefaultConfig(path: string): Promise<void> {
  await writeFile(path, `${JSON.stringify(defaultConfig(), null, 2)}\n`, { flag: 'wx', mode: 0o644 }).catch((err) => {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  })
}

/**
 * Check a config object (whole or partial) against the schema; throws ConfigError naming the
 * first bad key as a dotted path, e.g. `content.uploadSlots`.
 */
export function validateConfig(value: unknown, source = 'config'): ConfigOverrides {
  if (!isObject(value)) throw new ConfigError(`${source}: expected a JSON object`)
  const first = Value.Errors(configSchema, Value.Default(configSchema, structuredClone(value))).First()
  if (first === undefined) return value as ConfigOverrides
  const { known, setting } = locate(first.path.slice(1).split('/'))
  if (!known) throw new ConfigError(`${source}: unknown setting "${setting}"`)
  throw new ConfigError(
    `${source}: invalid value for "${setting}": ${JSON.stringify(valueAt(value, setting))} (${explain(first.schema, first.message)})`,
  )
}

/** Parse `host:port` or `[v6]:port`; undefined when malformed. */
export function parseHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value)
  if (m === null) return undefined
  const port = Number(m[3])
  if (port > 65535) return undefined
  return { host: (m[1] ?? m[2]) as string, port }
}

/**
 * The setting a schema error points into: walks the path down through sections; `known` is
 * false when a key is not in the schema (then `setting` is that key).
 */
function locate(path: string[]): { known: boolean; setting: string } {
  let schema: TSchema = configSchema
  const walked: string[] = []
  for (const part of path) {
    const props = (schema as { properties?: Record<string, TSchema> }).properties
    if (props === undefined) break
    const next = props[part]
    walked.push(part)
    if (next === undefined) return { known: false, setting: walked.join('.') }
    schema = next
  }
  return { known: true, setting: walked.join('.') }
}

/** A schema's own error text, the literals of a union, or TypeBox's message. */
function explain(schema: TSchema, message: string): string {
  const own = (schema as { errorMessage?: string }).errorMessage
  if (own !== undefined) return own
  const values = schema.enum as unknown[] | undefined
  if (values !== undefined) return `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}`
  return message.toLowerCase()
}

function valueAt(value: unknown, dotted: string): unknown {
  let v = value
  for (const part of dotted.split('.')) v = isObject(v) ? v[part] : undefined
  return v
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue
    const current = base[k]
    base[k] = isObject(v) && isObject(current) ? deepMerge({ ...current }, v) : v
  }
  return base
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
