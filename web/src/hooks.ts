/** Data a view shows: loaded at once, again on the events that change it, and on reconnection. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { type LiveEvent, onEvent } from './api.ts'

export interface Loaded<T> {
  data: T | undefined
  error: unknown
  reload: () => void
}

/**
 * `load` runs at mount, every `everyMs` (if given), after any event whose type is in
 * `refreshOn`, and when the event stream comes back after the daemon was away.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  options: { everyMs?: number; refreshOn?: string[] } = {},
): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined)
  const [error, setError] = useState<unknown>(undefined)
  const loadRef = useRef(load)
  loadRef.current = load
  const running = useRef(false)
  const again = useRef(false)
  const reload = useCallback(() => {
    if (running.current) {
      again.current = true
      return
    }
    running.current = true
    loadRef
      .current()
      .then(
        (value) => {
          setData(value)
          setError(undefined)
        },
        (err) => setError(err),
      )
      .finally(() => {
        running.current = false
        if (again.current) {
          again.current = false
          reload()
        }
      })
  }, [])
  const refreshOn = options.refreshOn ?? []
  useEffect(() => {
    reload()
    const off = onEvent((e) => {
      if (e.type === 'reconnected' || refreshOn.includes(e.type)) reload()
    })
    const timer = options.everyMs === undefined ? undefined : setInterval(reload, options.everyMs)
    return () => {
      off()
      clearInterval(timer)
    }
  }, [reload, options.everyMs, refreshOn.join(',')])
  return { data, error, reload }
}

/** Call `handler` for every live event (the latest handler, without resubscribing). */
export function useEvents(handler: (event: LiveEvent) => void): void {
  const ref = useRef(handler)
  ref.current = handler
  useEffect(() => onEvent((e) => ref.current(e)), [])
}

/** Re-render every `ms` (clocks that tick, such as uptime). */
export function useTick(ms: number): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(t)
  }, [ms])
  return now
}
