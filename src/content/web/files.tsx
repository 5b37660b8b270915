/**
 * Files: add files or folders from this browser (streamed to the daemon, then added there,
 * so the CID is the one `lateral add` gives), fetch a CID from every peer that has it with live
 * progress per peer, download results, and manage what this node keeps.
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { Card, ErrorNote } from '../../../web/src/components.tsx'
import { useEvents, useLoad } from '../../../web/src/hooks.ts'
import type { ServiceView } from '../../../web/src/service-view.ts'
import type { ContentTransfer, ContentTransfersReply } from '../api/schemas.ts'
import { AddPanel } from './add-panel.tsx'
import { FetchForm } from './fetch-form.tsx'
import { KeptList } from './kept-list.tsx'
import { TransferRow, transferCid } from './transfer-row.tsx'

export function FilesView() {
  const [transfers, setTransfers] = useState<Record<string, ContentTransfer>>({})
  const loaded = useLoad(async () => {
    const r = await api.get<ContentTransfersReply>('/v1/transfers')
    setTransfers(Object.fromEntries(r.transfers.map((t) => [t.id, t])))
    return r
  })
  useEvents((e) => {
    if (!e.type.startsWith('transfer:')) return
    const t = e.data as ContentTransfer
    setTransfers((all) => ({ ...all, [t.id]: t }))
  })
  const names = addedNames(Object.values(transfers))
  const running = Object.values(transfers).sort((a, b) => b.startedAt - a.startedAt)
  return (
    <div class="grid" data-view="files">
      <AddPanel />
      <Card title="Fetch">
        <FetchForm />
      </Card>
      <Card title="Transfers" wide>
        <ErrorNote error={loaded.error} />
        {running.length === 0 ? <p class="muted">Nothing yet: add a file, or paste a CID above.</p> : null}
        {running.map((t) => (
          <TransferRow key={t.id} t={t} name={t.cid === undefined ? undefined : names.get(t.cid)} />
        ))}
      </Card>
      <KeptList names={names} />
    </div>
  )
}

/** The path each CID added from this page came from, to name it where it shows up again. */
function addedNames(transfers: ContentTransfer[]): Map<string, string> {
  const names = new Map<string, string>()
  for (const t of transfers) {
    const cid = transferCid(t)
    if (t.kind === 'add' && cid !== undefined && t.path !== undefined) names.set(cid, t.path)
  }
  return names
}

/** The dashboard's view of the content service. */
export const contentView: ServiceView = { id: 'files', title: 'Files', View: FilesView }
