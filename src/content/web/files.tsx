/**
 * Files: add files or folders from this browser (streamed to the daemon, then added there,
 * so the CID is the one `lateral add` gives), fetch a CID from every peer that has it with live
 * progress per peer, download results, and manage what this node keeps.
 */
import { useState } from 'preact/hooks'
import { api, upload } from '../../../web/src/api.ts'
import { Bar, Card, Copy, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { bytes, clock, duration, rate, short } from '../../../web/src/format.ts'
import { useEvents, useLoad } from '../../../web/src/hooks.ts'
import type { ServiceView } from '../../../web/src/service-view.ts'
import type {
  AddProgressView,
  AddResultView,
  ContentTransfer,
  FetchProgressView,
  FolderEntryView,
  LsReply,
  PeerTallyView,
  PinsReply,
} from '../api/schemas.ts'

type PeerTally = PeerTallyView
type FetchProgress = FetchProgressView
type AddProgress = AddProgressView
export type Transfer = ContentTransfer
type Entry = FolderEntryView

/** A file picked in the browser with its path inside what was dropped. */
interface Picked {
  file: File
  path: string
}

/** An add still on its way from the browser to the daemon. */
interface Sending {
  key: string
  name: string
  sent: number
  total: number
  error?: unknown
}

export function FilesView() {
  const [transfers, setTransfers] = useState<Record<string, Transfer>>({})
  const loaded = useLoad(async () => {
    const r = await api.get<{ transfers: Transfer[] }>('/v1/transfers')
    setTransfers(Object.fromEntries(r.transfers.map((t) => [t.id, t])))
    return r
  })
  useEvents((e) => {
    if (!e.type.startsWith('transfer:')) return
    const t = e.data as Transfer
    setTransfers((all) => ({ ...all, [t.id]: t }))
  })
  const pins = useLoad(() => api.get<PinsReply>('/v1/pins'), {
    refreshOn: ['transfer:done'],
  })
  const [sending, setSending] = useState<Sending[]>([])
  const names = new Map<string, string>()
  for (const t of Object.values(transfers)) {
    const cid = t.cid ?? (t.result as { cid?: string } | undefined)?.cid
    if (t.kind === 'add' && cid !== undefined && t.path !== undefined) names.set(cid, t.path)
  }

  const add = async (items: Picked[][]) => {
    for (const item of items) {
      const first = item[0]
      if (first === undefined) continue
      const name = first.path.split('/')[0] ?? first.file.name
      const key = `${name}-${Date.now()}-${Math.random()}`
      const total = item.reduce((n, p) => n + p.file.size, 0)
      const update = (patch: Partial<Sending>) =>
        setSending((list) => list.map((s) => (s.key === key ? { ...s, ...patch } : s)))
      setSending((list) => [...list, { key, name, sent: 0, total }])
      try {
        const { id } = await api.post<{ id: string }>('/v1/uploads')
        let done = 0
        for (const p of item) {
          await upload(`/v1/uploads/${id}/files?path=${encodeURIComponent(p.path)}`, p.file, (n) =>
            update({ sent: done + n }),
          )
          done += p.file.size
          update({ sent: done })
        }
        await api.post(`/v1/uploads/${id}/add`, {})
        setSending((list) => list.filter((s) => s.key !== key))
      } catch (error) {
        update({ error })
      }
    }
  }

  const running = Object.values(transfers).sort((a, b) => b.startedAt - a.startedAt)
  return (
    <div class="grid" data-view="files">
      <Card title="Add files">
        <AddZone onPick={(items) => void add(items)} />
        {sending.map((s) => (
          <div class="transfer" key={s.key} data-testid="sending">
            <div class="row spread">
              <strong>{s.name}</strong>
              <span class="muted">
                sending to the daemon {bytes(s.sent)} / {bytes(s.total)}
              </span>
            </div>
            <Bar value={s.sent} max={s.total} />
            <ErrorNote error={s.error} />
          </div>
        ))}
      </Card>
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
      <Card title={`Kept on this node (${pins.data?.pins.length ?? 0})`} wide>
        <ErrorNote error={pins.error} />
        <table class="pins" data-testid="pins">
          <tbody>
            {(pins.data?.pins ?? []).map((p) => (
              <PinRow key={p.cid} pin={p} name={names.get(p.cid)} onChange={pins.reload} />
            ))}
          </tbody>
        </table>
      </Card>
    </div>
  )
}

function AddZone({ onPick }: { onPick: (items: Picked[][]) => void }) {
  const [over, setOver] = useState(false)
  const fromInput = (input: HTMLInputElement) => {
    const files = [...(input.files ?? [])]
    input.value = ''
    const folders = new Map<string, Picked[]>()
    const singles: Picked[][] = []
    for (const file of files) {
      const rel = file.webkitRelativePath
      if (rel === '') singles.push([{ file, path: file.name }])
      else {
        const top = rel.split('/')[0] ?? rel
        folders.set(top, [...(folders.get(top) ?? []), { file, path: rel }])
      }
    }
    onPick([...singles, ...folders.values()])
  }
  return (
    <section
      class={`dropzone${over ? ' over' : ''}`}
      aria-label="Drop files or folders to add"
      data-testid="dropzone"
      onDragOver={(e) => {
        e.preventDefault()
        setOver(true)
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault()
        setOver(false)
        const entries = [...(e.dataTransfer?.items ?? [])]
          .map((i) => i.webkitGetAsEntry())
          .filter((x): x is FileSystemEntry => x !== null)
        void Promise.all(entries.map((entry) => walk(entry, ''))).then(onPick)
      }}
    >
      <p>Drop files or folders here, or</p>
      <div class="row">
        <label class="button">
          Choose files
          <input type="file" multiple hidden data-testid="add-files" onChange={(e) => fromInput(e.currentTarget)} />
        </label>
        <label class="button">
          Choose a folder
          <input
            type="file"
            hidden
            data-testid="add-folder"
            // Chromium, Firefox and Safari all take this non-standard attribute.
            {...{ webkitdirectory: '' }}
            onChange={(e) => fromInput(e.currentTarget)}
          />
        </label>
      </div>
    </section>
  )
}

/** Every file under a dropped entry, with its path from the dropped item's name. */
async function walk(entry: FileSystemEntry, prefix: string): Promise<Picked[]> {
  const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject))
    return [{ file, path }]
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader()
  const children: FileSystemEntry[] = []
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject))
    if (batch.length === 0) break
    children.push(...batch)
  }
  return (await Promise.all(children.map((c) => walk(c, path)))).flat()
}

function FetchForm() {
  const [cid, setCid] = useState('')
  const start = useAction(async (target: string) => {
    await api.post(`/v1/content/${encodeURIComponent(target)}/get`, {})
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

function TransferRow({ t, name }: { t: Transfer; name: string | undefined }) {
  const cancel = useAction(() => api.delete(`/v1/transfers/${t.id}`))
  const cid = t.cid ?? (t.result as { cid?: string } | undefined)?.cid
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

function AddDetail({ t }: { t: Transfer }) {
  const p = t.progress as AddProgress | undefined
  const r = t.result as AddResultView | undefined
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

function FetchDetail({ t }: { t: Transfer }) {
  const p = (t.state === 'running' ? t.progress : (t.result ?? t.progress)) as FetchProgress | undefined
  const have = (p?.fetchedBytes ?? 0) + (p?.storedBytes ?? 0)
  const all = p?.peers ?? []
  // Peers that were asked but had nothing to give are counted, not listed.
  const peers = all.filter((x) => x.bytes > 0 || x.state !== 'active').sort((a, b) => b.bytes - a.bytes)
  const idle = all.length - peers.length
  const total = p?.totalBytes
  return (
    <>
      <Bar value={t.state === 'done' ? (total ?? have) : have} max={t.state === 'done' ? (total ?? have) : total} />
      <p class="muted small" data-testid="fetch-stats">
        {bytes(have)}
        {total === undefined ? '' : ` of ${bytes(total)}`}
        {t.state === 'running'
          ? ` · ${rate(p?.rateBps)} · ${p?.etaMs === undefined ? 'ETA –' : `ETA ${duration(p.etaMs)}`}`
          : ''}
        {t.state !== 'running' && t.endedAt !== undefined ? ` · took ${duration(t.endedAt - t.startedAt)}` : ''}
        {p !== undefined && p.storedBytes > 0 ? ` · ${bytes(p.storedBytes)} were here already` : ''}
      </p>
      {idle === 0 ? null : (
        <p class="muted small">
          {idle} more connected peer{idle === 1 ? '' : 's'} asked, nothing received from {idle === 1 ? 'it' : 'them'}{' '}
          yet
        </p>
      )}
      {peers.length === 0 ? null : (
        <table class="per-peer" data-testid="per-peer">
          <thead>
            <tr>
              <th>From peer</th>
              <th class="num">Bytes</th>
              <th class="num">Blocks</th>
              <th class="num">Share</th>
              <th class="num">Rate</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {peers.map((x) => (
              <tr key={x.peerId} data-peer={x.peerId}>
                <td>
                  <code title={x.peerId}>{short(x.peerId)}</code>
                </td>
                <td class="num">{bytes(x.bytes)}</td>
                <td class="num">{x.blocks}</td>
                <td class="num">
                  {p === undefined || p.fetchedBytes === 0 ? '–' : `${Math.round((100 * x.bytes) / p.fetchedBytes)}%`}
                </td>
                <td class="num">{rate(x.rateBps)}</td>
                <td>{x.state}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}

/** Download a stored file through a one-time link (a plain link cannot carry the token). */
async function download(cid: string, filename: string): Promise<void> {
  const link = await api.post<{ path: string }>(`/v1/content/${encodeURIComponent(cid)}/link`, { filename })
  const a = document.createElement('a')
  a.href = link.path
  a.download = filename
  document.body.append(a)
  a.click()
  a.remove()
}

/** A fetched or kept CID: a download button for a file, the entries of a folder. */
function Contents({ cid, name }: { cid: string; name: string | undefined }) {
  const [entries, setEntries] = useState<Entry[] | undefined>(undefined)
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

function EntryRow({ entry }: { entry: Entry }) {
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

function PinRow({
  pin,
  name,
  onChange,
}: {
  pin: { cid: string; addedAt: number; size?: number }
  name: string | undefined
  onChange: () => void
}) {
  const unpin = useAction(async () => {
    await api.delete(`/v1/pins/${encodeURIComponent(pin.cid)}`)
    onChange()
  })
  return (
    <tr data-cid={pin.cid}>
      <td>
        {name === undefined ? null : <strong>{name} </strong>}
        <code class="small" title={pin.cid}>
          {short(pin.cid, 12)}
        </code>{' '}
        <Copy text={pin.cid} />
      </td>
      <td class="num">{bytes(pin.size)}</td>
      <td class="muted small">since {clock(pin.addedAt)}</td>
      <td>
        <Contents cid={pin.cid} name={name} />
      </td>
      <td>
        <button type="button" class="small danger" onClick={() => void unpin.run()} disabled={unpin.busy}>
          Unpin
        </button>
        <ErrorNote error={unpin.error} />
      </td>
    </tr>
  )
}

/** The dashboard's view of the content service. */
export const contentView: ServiceView = { id: 'files', title: 'Files', View: FilesView }
