/**
 * What a fetched or kept CID holds: a file downloads through a one-time link (a plain link
 * cannot carry the token), a folder opens into its entries.
 */
import { useState } from 'preact/hooks'
import { api } from '../../../web/src/api.ts'
import { ErrorNote, useAction } from '../../../web/src/components.tsx'
import { bytes } from '../../../web/src/format.ts'
import type { FolderEntryView, LinkBody, LinkReply, LsReply } from '../api/schemas.ts'

/** Download a stored file through a one-time link (a plain link cannot carry the token). */
async function download(cid: string, filename: string): Promise<void> {
  const link = await api.post<LinkReply>(`/v1/content/${encodeURIComponent(cid)}/link`, {
    filename,
  } satisfies LinkBody)
  const a = document.createElement('a')
  a.href = link.path
  a.download = filename
  document.body.append(a)
  a.click()
  a.remove()
}

/** A fetched or kept CID: a download button for a file, the entries of a folder. */
export function Contents({ cid, name }: { cid: string; name: string | undefined }) {
  const [entries, setEntries] = useState<FolderEntryView[] | undefined>(undefined)
  const act = useAction(async () => {
    const r = await api.get<LsReply>(`/v1/content/${encodeURIComponent(cid)}`)
    const only = r.entries[0]
    if (r.entries.length === 1 && only !== undefined && only.cid === cid && only.type === 'file') {
      await download(cid, name ?? cid)
      return
    }
    setEntries(r.entries)
  })
  return (
    <>
      <button type="button" class="small" onClick={() => void act.run()} disabled={act.busy} data-testid="open">
        {entries === undefined ? 'Download / open' : 'Refresh'}
      </button>
      <ErrorNote error={act.error} />
      {entries === undefined ? null : (
        <ul class="entries">
          {entries.map((e) => (
            <EntryRow key={e.cid + e.name} entry={e} />
          ))}
        </ul>
      )}
    </>
  )
}

function EntryRow({ entry }: { entry: FolderEntryView }) {
  const act = useAction(() => download(entry.cid, entry.name))
  return (
    <li>
      {entry.type === 'directory' ? '📁' : '📄'} {entry.name} <span class="muted">{bytes(entry.size)}</span>{' '}
      {entry.type === 'file' ? (
        <button type="button" class="small" onClick={() => void act.run()}>
          Download
        </button>
      ) : (
        <Contents cid={entry.cid} name={entry.name} />
      )}
      <ErrorNote error={act.error} />
    </li>
  )
}
