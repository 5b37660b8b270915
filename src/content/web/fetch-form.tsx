/** Fetching a CID: paste it, and every peer that has it sends a part (a get transfer). */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { ErrorNote, useAction } from '../../../web/src/components.tsx'
import type { ContentTransfer, GetBody } from '../api/schemas.ts'

export function FetchForm() {
  const [cid, setCid] = useState('')
  const start = useAction(async (target: string) => {
    await api.post<ContentTransfer>(`/v1/content/${encodeURIComponent(target)}/get`, {} satisfies GetBody)
    setCid('')
  })
  return (
    <>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault()
          if (cid.trim() !== '') void start.run(cid.trim())
        }}
      >
        <input
          name="cid"
          placeholder="Paste a CID: bafy… or Qm…"
          value={cid}
          onInput={(e) => setCid((e.target as HTMLInputElement).value)}
        />
        <button type="submit" disabled={start.busy}>
          Fetch
        </button>
      </form>
      <ErrorNote error={start.error} />
      <p class="muted small">
        Every peer that has it sends a part; each block is checked against its hash before it is kept.
      </p>
    </>
  )
}
