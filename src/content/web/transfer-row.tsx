/** One transfer of the Files view: what it is, its progress or outcome, and what can be done with it. */
import { api } from '../../../web/src/api.ts'
import { Bar, Copy, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { bytes, duration, short } from '../../../web/src/format.ts'
import type { AddTransfer, ContentTransfer } from '../api/schemas.ts'
import { Contents } from './contents.tsx'
import { FetchDetail } from './fetch-detail.tsx'

/** The root CID of a transfer: asked for (get, pin), or known once an add is over. */
export function transferCid(t: ContentTransfer): string | undefined {
  return t.cid ?? t.result?.cid
}

export function TransferRow({ t, name }: { t: ContentTransfer; name: string | undefined }) {
  const cancel = useAction(() => api.delete<ContentTransfer>(`/v1/transfers/${t.id}`))
  const cid = transferCid(t)
  const label =
    t.kind === 'add' ? `Add ${t.path ?? ''}` : `${t.kind === 'get' ? 'Fetch' : 'Pin'} ${short(cid ?? '', 10)}`
  return (
    <div class={`transfer ${t.state}`} data-testid="transfer" data-kind={t.kind} data-state={t.state} data-cid={cid}>
      <div class="row spread">
        <strong>{label}</strong>
        <span class={`badge ${t.state}`}>{t.state}</span>
      </div>
      {t.kind === 'add' ? <AddDetail t={t} /> : <FetchDetail t={t} />}
      {t.error === undefined ? null : (
        <div class="error" role="alert">
          <strong>{t.error.name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1 $2')}.</strong> {t.error.message}
        </div>
      )}
      <div class="row">
        {cid === undefined ? null : (
          <>
            <code class="small" data-testid="transfer-cid">
              {cid}
            </code>
            <Copy text={cid} label="Copy CID" />
          </>
        )}
        {t.state === 'running' ? (
          <button type="button" class="small danger" onClick={() => void cancel.run()} disabled={cancel.busy}>
            Cancel
          </button>
        ) : null}
        {t.state === 'done' && t.kind !== 'add' && cid !== undefined ? <Contents cid={cid} name={name} /> : null}
      </div>
      <ErrorNote error={cancel.error} />
    </div>
  )
}

function AddDetail({ t }: { t: AddTransfer }) {
  const p = t.progress
  const r = t.result
  if (t.state === 'done' && r !== undefined)
    return (
      <p class="muted small">
        {bytes(r.size)} added in {duration((t.endedAt ?? t.startedAt) - t.startedAt)} · kept and announced
      </p>
    )
  return (
    <>
      <Bar value={p?.bytes ?? 0} max={p?.total} />
      <p class="muted small">
        hashing {p?.path ?? ''} {bytes(p?.bytes ?? 0)}
        {p?.total === undefined ? '' : ` / ${bytes(p.total)}`}
      </p>
    </>
  )
}
