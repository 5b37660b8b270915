/**
 * The steps both devices go through once a pairing has started: compare the short string, wait
 * for the other side, then the outcome with its reason. The same on the new device and on the
 * device that adds it, so the two screens a person holds side by side read alike.
 */
import { ErrorNote } from '../../../web/src/components.tsx'
import { short } from '../../../web/src/format.ts'
import type { PairingView } from '../api/schemas.ts'
import { ended, type FollowedPairing } from './use-pairing.ts'

export function PairingSteps({ followed, onAgain }: { followed: FollowedPairing; onAgain: () => void }) {
  const p = followed.pairing
  if (p === undefined) return null
  return (
    <div class="pairing" data-testid="pairing" data-state={p.state} data-pairing={p.id}>
      {p.state === 'compare' ? <Compare p={p} followed={followed} /> : null}
      {p.state === 'confirmed' ? (
        <p data-testid="pairing-confirmed">
          You confirmed <strong class="sas-inline">{p.shortString}</strong>. Waiting for the other device to confirm
          too…
        </p>
      ) : null}
      {p.state === 'done' ? (
        <div class="outcome ok" role="status" data-testid="pairing-done">
          <strong>Linked.</strong>{' '}
          {p.role === 'new-device'
            ? 'This device now belongs to the identity of the device that added it.'
            : 'The new device is now one of this identity’s devices.'}{' '}
          {p.identity === undefined ? null : (
            <span class="muted">
              Identity <code title={p.identity}>{short(p.identity, 10)}</code>
              {p.peer === undefined ? null : (
                <>
                  , with <code title={p.peer}>{short(p.peer)}</code>
                </>
              )}
              .
            </span>
          )}
        </div>
      ) : null}
      {p.state === 'aborted' || p.state === 'expired' ? (
        <div class="error" role="alert" data-testid="pairing-aborted">
          <strong>{p.state === 'expired' ? 'The code expired' : 'Linking stopped'}.</strong>{' '}
          {p.error ?? 'No device was added.'} Nothing was added to the identity.
        </div>
      ) : null}
      <ErrorNote error={followed.answer.error} />
      {ended(p) ? (
        <button type="button" class="small" onClick={onAgain}>
          {p.state === 'done' ? 'Link another device' : 'Start again'}
        </button>
      ) : null}
    </div>
  )
}

function Compare({ p, followed }: { p: PairingView; followed: FollowedPairing }) {
  return (
    <div class="compare">
      <p>Both screens must show the same string. Compare every digit with the other device:</p>
      <div class="sas" data-testid="short-string">
        {p.shortString}
      </div>
      {p.peer === undefined ? null : (
        <p class="muted small">
          The other device: <code title={p.peer}>{p.peer}</code>
        </p>
      )}
      <div class="row">
        <button
          type="button"
          data-testid="pairing-match"
          disabled={followed.answer.busy}
          onClick={() => void followed.answer.run(true)}
        >
          They match
        </button>
        <button
          type="button"
          class="danger"
          data-testid="pairing-differ"
          disabled={followed.answer.busy}
          onClick={() => void followed.answer.run(false)}
        >
          They differ
        </button>
      </div>
      <p class="muted small">
        If they differ, someone may be between the two devices: both sides stop and nothing is added.
      </p>
    </div>
  )
}
