/** Small pieces the views share. */
import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { describe } from './api.ts'

export function ErrorNote({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null
  const { title, detail } = describe(error)
  return (
    <div class="error" role="alert">
      <strong>{title}.</strong> {detail}
    </div>
  )
}

export function Copy({ text, label }: { text: string; label?: string }) {
  const [done, setDone] = useState(false)
  return (
    <button
      type="button"
      class="small"
      title={`Copy ${text}`}
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setDone(true)
          setTimeout(() => setDone(false), 1200)
        })
      }}
    >
      {done ? 'Copied' : (label ?? 'Copy')}
    </button>
  )
}

export function Card({
  title,
  children,
  actions,
  wide,
}: {
  title: string
  children: ComponentChildren
  actions?: ComponentChildren
  /** Span the whole row (tables). */
  wide?: boolean
}) {
  return (
    <section class={wide === true ? 'card wide' : 'card'}>
      <header>
        <h2>{title}</h2>
        {actions}
      </header>
      {children}
    </section>
  )
}

export function Bar({ value, max }: { value: number; max: number | undefined }) {
  const pct = max === undefined || max === 0 ? undefined : Math.min(100, (value / max) * 100)
  return (
    <div class={`bar${pct === undefined ? ' unknown' : ''}`} role="progressbar" aria-valuenow={pct ?? undefined}>
      <div style={{ width: `${pct ?? 100}%` }} />
    </div>
  )
}

/** Run an action from a button: busy while it runs, its error shown beside it. */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<unknown>) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(undefined)
  const run = async (...args: A) => {
    setBusy(true)
    setError(undefined)
    try {
      await fn(...args)
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return { run, busy, error, clear: () => setError(undefined) }
}
