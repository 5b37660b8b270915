/** Defaults for every tunable, applied as `init.x ?? DEFAULT_X`. Documented in docs/config.md. */

export const AGENT_NAME = 'lateral'
export const VERSION = '0.1.0'
export const AGENT_VERSION = `${AGENT_NAME}/${VERSION}`

/** Protocol prefix of every Lateral wire protocol, DHT included. */
export const PROTOCOL_PREFIX = '/lateral'
export const DHT_PROTOCOL = `${PROTOCOL_PREFIX}/kad/1.0.0`

export const DEFAULT_TCP_PORT = 4001
export const DEFAULT_WS_PORT = 4002
export const DEFAULT_LISTEN = [`/ip4/0.0.0.0/tcp/${DEFAULT_TCP_PORT}`, `/ip4/0.0.0.0/tcp/${DEFAULT_WS_PORT}/ws`]
export const DEFAULT_API = '127.0.0.1:5980'
export const DEFAULT_MAX_CONNECTIONS = 300
export const DEFAULT_MAX_INCOMING_PENDING = 10
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000
export const DEFAULT_PING_COUNT = 3
export const DEFAULT_PING_TIMEOUT_MS = 10_000

/** Yamux (measured with `npm run bench -- stack`; see docs/architecture.md). */
export const YAMUX_MAX_MESSAGE_SIZE = 64 * 1024
export const YAMUX_INITIAL_STREAM_WINDOW = 256 * 1024
export const YAMUX_MAX_STREAM_WINDOW = 16 * 1024 * 1024

/** Keystore KDF: scrypt N = 2^17, r = 8, p = 1 (128 MiB, a few hundred ms). */
export const DEFAULT_SCRYPT_LOG_N = 17
export const DEFAULT_SCRYPT_R = 8
export const DEFAULT_SCRYPT_P = 1
/** Refuse headers that ask for more than this, so a tampered file cannot exhaust memory. */
export const MAX_SCRYPT_LOG_N = 22
export const MAX_SCRYPT_R = 32
export const MAX_SCRYPT_P = 16

/** Environment variables understood by every command. */
export const ENV_HOME = 'LATERAL_HOME'
export const ENV_PASSPHRASE = 'LATERAL_PASSPHRASE'

/** How long the SSE stream waits between keep-alive comments. */
export const EVENTS_HEARTBEAT_MS = 15_000
