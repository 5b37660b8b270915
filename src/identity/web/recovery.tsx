/**
 * Recovery in the dashboard: the guardians of this identity (set them, see a change waiting), a
 * banner on every current device while a recovery of its identity is pending (with a veto), and
 * the two other sides: a fresh device asking its guardians, and a guardian approving after
 * comparing the short string with the person.
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { Card, Copy, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { short } from '../../../web/src/format.ts'
import { useLoad } from '../../../web/src/hooks.ts'
import type {
  ContactsReply,
  GuardiansBody,
  IdentityReply,
  RecoverApproveBody,
  RecoverStartBody,
  RecoverySessionReply,
} from '../api/schemas.ts'

const when = (ms: number) => new Date(ms).toLocaleString()

/** Shown above every view while a recovery of this identity is pending. */
export function RecoveryBanner() {
  const identity = useLoad(() => api.get<IdentityReply>('/v1/identity'), {
    everyMs: 15_000,
    refreshOn: ['identity:change', 'recovery:started'],
  })
  const veto = useAction(async () => {
    await api.post<IdentityReply>('/v1/identity/recovery/veto', {})
    identity.reload()
  })
  const r = identity.data?.recovery
  if (r === undefined || r.state !== 'pending') return null
  return (
    <div class="banner" role="alert" data-testid="recovery-banner">
      <strong>Someone is recovering this identity</strong> with device <code title={r.device}>{short(r.device)}</code>{' '}
      (“
      {r.name}”), approved by {r.approvedBy.length} guardian(s). It takes effect at {when(r.dueAt)} and then replaces
      every device, this one included. If it is not you:{' '}
      <button
        type="button"
        class="small danger"
        data-testid="recovery-veto"
        disabled={veto.busy}
        onClick={() => void veto.run()}
      >
        Veto
      </button>
      <ErrorNote error={veto.error} />
    </div>
  )
}

export function Guardians({ identity: i, onChange }: { identity: IdentityReply; onChange: () => void }) {
  const contacts = useLoad(() => api.get<ContactsReply>('/v1/contacts'))
  const [chosen, setChosen] = useState<string[]>([])
  const [threshold, setThreshold] = useState('2')
  const [hours, setHours] = useState('72')
  const save = useAction(async () => {
    const body: GuardiansBody = {
      guardians: chosen,
      threshold: Number(threshold),
      delayMs: Math.round(Number(hours) * 3_600_000),
    }
    await api.post<IdentityReply>('/v1/identity/guardians', body)
    setChosen([])
    onChange()
  })
  const names = new Map((contacts.data?.contacts ?? []).map((c) => [c.identity, c.name]))
  const set = i.guardians.current
  return (
    <Card title="Guardians">
      {set === undefined ? (
        <p class="muted">
          No guardians yet. If you lose every device, guardians you trust can give you a new one, and nobody else can.
        </p>
      ) : (
        <p data-testid="guardians">
          {set.threshold} of {set.guardians.length} must approve a recovery, which then waits{' '}
          {Math.round(set.delay / 3_600_000)} h for a veto:{' '}
          {set.guardians.map((g) => names.get(g.identity) ?? short(g.identity)).join(', ')}.
        </p>
      )}
      {i.guardians.pending === undefined ? null : (
        <p class="muted small">
          A change waits until {when(i.guardians.pending.effectiveAt)} (so a stolen device cannot swap them quickly).
        </p>
      )}
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault()
          if (chosen.length > 0) void save.run()
        }}
      >
        <div class="row">
          {(contacts.data?.contacts ?? []).map((c) => (
            <label key={c.name} class="small">
              <input
                type="checkbox"
                checked={chosen.includes(c.name)}
                onChange={(e) =>
                  setChosen(
                    (e.target as HTMLInputElement).checked ? [...chosen, c.name] : chosen.filter((n) => n !== c.name),
                  )
                }
              />{' '}
              {c.name}
            </label>
          ))}
        </div>
        <div class="row">
          <input
            name="threshold"
            inputMode="numeric"
            title="Approvals needed"
            value={threshold}
            onInput={(e) => setThreshold((e.target as HTMLInputElement).value)}
          />
          <span class="muted small">approvals, waiting</span>
          <input
            name="delay-hours"
            inputMode="numeric"
            title="Hours"
            value={hours}
            onInput={(e) => setHours((e.target as HTMLInputElement).value)}
          />
          <span class="muted small">hours for a veto</span>
          <button type="submit" disabled={save.busy || chosen.length === 0}>
            Set guardians
          </button>
        </div>
        <ErrorNote error={save.error} />
      </form>
    </Card>
  )
}

/** A fresh device asks the guardians of an identity; a guardian approves a code. */
export function Recover() {
  const [target, setTarget] = useState('')
  const [code, setCode] = useState('')
  const [typed, setTyped] = useState('')
  const [session, setSession] = useState<RecoverySessionReply | undefined>(undefined)
  const live = useLoad(
    () =>
      session === undefined ? Promise.resolve(undefined) : api.get<RecoverySessionReply>(`/v1/recovery/${session.id}`),
    { refreshOn: ['recovery:update'], everyMs: 5_000 },
  )
  const s = live.data ?? session
  const start = useAction(async () => {
    setSession(
      await api.post<RecoverySessionReply>('/v1/recovery', { identity: target.trim() } satisfies RecoverStartBody),
    )
  })
  const approve = useAction(async () => {
    setSession(
      await api.post<RecoverySessionReply>('/v1/recovery/approvals', {
        code: code.trim(),
      } satisfies RecoverApproveBody),
    )
  })
  const confirm = useAction(async (answer: string) => {
    if (s === undefined) return
    setSession(await api.post<RecoverySessionReply>(`/v1/recovery/${s.id}/confirm`, { shortString: answer }))
  })
  return (
    <Card title="Recover">
      {s === undefined ? (
        <div class="stack">
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault()
              if (target.trim() !== '') void start.run()
            }}
          >
            <input
              name="recover-identity"
              placeholder="Lost every device? The identity ID to recover"
              value={target}
              onInput={(e) => setTarget((e.target as HTMLInputElement).value)}
            />
            <button type="submit" disabled={start.busy}>
              Ask my guardians
            </button>
          </form>
          <ErrorNote error={start.error} />
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault()
              if (code.trim() !== '') void approve.run()
            }}
          >
            <input
              name="approve-code"
              placeholder="A guardian? The code the person gave you"
              value={code}
              onInput={(e) => setCode((e.target as HTMLInputElement).value)}
            />
            <button type="submit" disabled={approve.busy}>
              Check the request
            </button>
          </form>
          <ErrorNote error={approve.error} />
        </div>
      ) : (
        <div class="stack" data-testid="recovery-session" data-state={s.state}>
          <p>
            {s.role === 'recovering' ? 'Recovering' : 'A request to recover'} identity{' '}
            <code title={s.identity}>{short(s.identity)}</code>{' '}
            {s.role === 'guardian' ? (
              <>
                by device <code title={s.device}>{short(s.device)}</code>
              </>
            ) : null}
            : <strong>{s.state}</strong>
            {s.error === undefined ? null : <span class="muted"> ({s.error})</span>}
          </p>
          {s.code === undefined ? null : (
            <div class="row">
              <code class="peer-id">{s.code}</code>
              <Copy text={s.code} />
            </div>
          )}
          <p>
            Short string: <strong class="short-string">{s.shortString}</strong>{' '}
            <span class="muted small">
              {s.role === 'recovering' ? 'read it to each guardian' : 'it must be what the person reads to you'}
            </span>
          </p>
          {s.role === 'recovering' ? (
            <p class="muted">
              Approved by {s.approvals.length}
              {s.threshold === undefined ? '' : ` of ${s.threshold}`}
              {s.dueAt === undefined ? '' : `; takes effect at ${when(s.dueAt)} unless vetoed`}
            </p>
          ) : s.state === 'compare' ? (
            <form
              class="row"
              onSubmit={(e) => {
                e.preventDefault()
                void confirm.run(typed.trim())
              }}
            >
              <input
                name="typed-string"
                placeholder="The string the person reads"
                value={typed}
                onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
              />
              <button type="submit" disabled={confirm.busy}>
                Approve
              </button>
              <button type="button" class="danger" onClick={() => void confirm.run('no')}>
                They differ
              </button>
            </form>
          ) : null}
          <ErrorNote error={confirm.error} />
          <button type="button" class="small" onClick={() => setSession(undefined)}>
            Close
          </button>
        </div>
      )}
    </Card>
  )
}
