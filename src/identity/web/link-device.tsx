/**
 * Link a device, from either end. On the new device: show a one-time code (text and QR code) and
 * wait for a device of the identity to use it. On a device of the identity: paste the code the
 * new device shows. Both then compare the same short string (pairing-steps.tsx).
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { Card, Copy, ErrorNote } from '../../../web/src/components.tsx'
import { duration } from '../../../web/src/format.ts'
import { useTick } from '../../../web/src/hooks.ts'
import type { IdentityReply, PairingAddBody, PairingStartBody, PairingView } from '../api/schemas.ts'
import { CodeQr } from './code-qr.tsx'
import { PairingSteps } from './pairing-steps.tsx'
import { type FollowedPairing, usePairing } from './use-pairing.ts'

type Mode = 'new-device' | 'existing-device'

export function LinkDevice({ identity }: { identity: IdentityReply | undefined }) {
  const [mode, setMode] = useState<Mode>('existing-device')
  const followed = usePairing()
  const busy = followed.pairing !== undefined
  return (
    <Card title="Link a device">
      <div class="tabs" role="tablist">
        {(
          [
            ['existing-device', 'Add a new device'],
            ['new-device', 'This is the new device'],
          ] as const
        ).map(([m, label]) => (
          <button
            type="button"
            key={m}
            role="tab"
            class={m === mode ? 'active' : ''}
            aria-selected={m === mode}
            disabled={busy && m !== mode}
            data-link-mode={m}
            onClick={() => setMode(m)}
          >
            {label}
          </button>
        ))}
      </div>
      {mode === 'new-device' ? (
        <NewDevice followed={followed} identity={identity} />
      ) : (
        <AddDevice followed={followed} />
      )}
      <PairingSteps followed={followed} onAgain={followed.reset} />
    </Card>
  )
}

/** This device joins another identity: it shows the code the other device needs. */
function NewDevice({ followed, identity }: { followed: FollowedPairing; identity: IdentityReply | undefined }) {
  const [name, setName] = useState('')
  const p = followed.pairing
  if (p === undefined) {
    const others = (identity?.devices.length ?? 1) - 1
    return (
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault()
          const body: PairingStartBody = name.trim() === '' ? {} : { name: name.trim() }
          void followed.start.run(() => api.post<PairingView>('/v1/identity/pairings', body))
        }}
      >
        <p class="muted small">
          Use this on the device you want to add to an identity you already have. It shows a code; on a device of that
          identity, open <em>Link a device → Add a new device</em> and paste the code (or scan it).
        </p>
        {others > 0 ? (
          <p class="warn" role="note">
            This device already shares its identity with {others} other device{others === 1 ? '' : 's'}: joining another
            identity leaves this one.
          </p>
        ) : null}
        <div class="row">
          <input
            name="device-name"
            placeholder="This device’s name, e.g. laptop (optional)"
            maxLength={64}
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={followed.start.busy} data-testid="pairing-start">
            Show a pairing code
          </button>
        </div>
        <ErrorNote error={followed.start.error} />
      </form>
    )
  }
  if (p.state !== 'waiting' || p.code === undefined) return null
  return <WaitingWithCode p={p as PairingView & { code: string }} followed={followed} />
}

function WaitingWithCode({ p, followed }: { p: PairingView & { code: string }; followed: FollowedPairing }) {
  const now = useTick(1000)
  return (
    <div class="code-panel">
      <div class="stack">
        <p>On a device of the identity, paste this code into “Add a new device” (or scan the QR code):</p>
        <div class="row">
          <code class="pairing-code" data-testid="pairing-code">
            {p.code}
          </code>
        </div>
        <div class="row">
          <Copy text={p.code} label="Copy code" />
          {p.expiresAt === undefined ? null : (
            <span class="muted small">works once, expires in {duration(Math.max(0, p.expiresAt - now))}</span>
          )}
          <button
            type="button"
            class="small danger"
            disabled={followed.answer.busy}
            onClick={() => void followed.answer.run(false)}
          >
            Cancel
          </button>
        </div>
        <p class="muted small">Waiting for the other device…</p>
      </div>
      <CodeQr text={p.code} label="QR code of the pairing code" />
    </div>
  )
}

/** A device of the identity adds the new one with the code it shows. */
function AddDevice({ followed }: { followed: FollowedPairing }) {
  const [code, setCode] = useState('')
  const p = followed.pairing
  if (p !== undefined) {
    return p.state === 'waiting' ? <p class="muted">Reaching the new device and exchanging keys…</p> : null
  }
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault()
        const body: PairingAddBody = { code: code.trim() }
        if (body.code !== '')
          void followed.start.run(async () => {
            const started = await api.post<PairingView>('/v1/identity/pairings/join', body)
            setCode('') // a code works once
            return started
          })
      }}
    >
      <p class="muted small">
        On the new device, open <em>Link a device → This is the new device</em>, or run <code>lateral device link</code>{' '}
        there. Paste the code it shows here.
      </p>
      <div class="row">
        <input
          name="pairing-code"
          placeholder="Pairing code from the new device"
          value={code}
          onInput={(e) => setCode((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={followed.start.busy} data-testid="pairing-join">
          Add device
        </button>
      </div>
      <ErrorNote error={followed.start.error} />
    </form>
  )
}
