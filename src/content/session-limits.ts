/**
 * The bounds of a download session that config.json sets (`content.window*`,
 * `timeoutsBeforeDrop`, `rarestFirstScan`, `endGameDuplicates`, `storeQueue`): defaults from
 * src/core/constants.ts, and the checks the schema cannot make (it cannot compare two keys).
 */
import {
  DEFAULT_END_GAME_DUPLICATES,
  DEFAULT_RAREST_FIRST_SCAN,
  DEFAULT_STORE_QUEUE,
  DEFAULT_TIMEOUTS_BEFORE_DROP,
  DEFAULT_WINDOW_INITIAL,
  DEFAULT_WINDOW_MAX,
  DEFAULT_WINDOW_MIN,
  WINDOW_MAX_LIMIT,
} from '../core/constants.ts'
import { ConfigError } from '../core/errors.ts'

export interface SessionLimits {
  /** Requests a peer is given when it joins, before its rate is measured. */
  windowInitial: number
  /** Fewest requests a measured peer is given (a timeout halves its window below this until it answers). */
  windowMin: number
  /** Most requests outstanding to one peer (the memory a peer can cost is this many blocks). */
  windowMax: number
  /** Timeouts in a row after which a peer leaves the session. */
  timeoutsBeforeDrop: number
  /** Wanted blocks (in DAG order) among which the rarest are picked for a peer. */
  rarestFirstScan: number
  /** Peers asked for one block at once in the end-game (1 = never a duplicate). */
  endGameDuplicates: number
  /** Verified blocks written to the store at once; the streams wait beyond that. */
  storeQueue: number
}

const DEFAULTS: SessionLimits = {
  windowInitial: DEFAULT_WINDOW_INITIAL,
  windowMin: DEFAULT_WINDOW_MIN,
  windowMax: DEFAULT_WINDOW_MAX,
  timeoutsBeforeDrop: DEFAULT_TIMEOUTS_BEFORE_DROP,
  rarestFirstScan: DEFAULT_RAREST_FIRST_SCAN,
  endGameDuplicates: DEFAULT_END_GAME_DUPLICATES,
  storeQueue: DEFAULT_STORE_QUEUE,
}

/**
 * The session limits of `init`, defaults filled in. Throws ConfigError naming the keys (as in
 * config.json's `content` section) unless each is a whole number >= 1, `windowMax` is at most
 * WINDOW_MAX_LIMIT and windowMin <= windowInitial <= windowMax.
 */
export function sessionLimits(init: Partial<SessionLimits>): SessionLimits {
  const limits = { ...DEFAULTS }
  for (const key of Object.keys(DEFAULTS) as Array<keyof SessionLimits>) {
    const value = init[key]
    if (value === undefined) continue
    if (!Number.isInteger(value) || value < 1)
      throw new ConfigError(`content.${key} must be a whole number >= 1, got ${JSON.stringify(value)}`)
    limits[key] = value
  }
  const { windowMin, windowInitial, windowMax } = limits
  if (windowMax > WINDOW_MAX_LIMIT)
    throw new ConfigError(`content.windowMax must be at most ${WINDOW_MAX_LIMIT}, got ${windowMax}`)
  if (windowMin > windowInitial || windowInitial > windowMax)
    throw new ConfigError(
      `content.windowMin (${windowMin}), content.windowInitial (${windowInitial}) and content.windowMax (${windowMax}) must satisfy windowMin <= windowInitial <= windowMax`,
    )
  return limits
}
