/**
 * Adding from the browser: each picked file or folder is streamed into an upload on the daemon,
 * then added there, so its CID is the one `lateral add` gives. The add then shows up as a
 * transfer; until then its row here shows the bytes sent.
 */
import { useState } from 'preact/hooks'
import { api, upload } from '../../../web/src/api.ts'
import { Bar, Card, ErrorNote } from '../../../web/src/components.tsx'
import { bytes } from '../../../web/src/format.ts'
import type { ContentTransfer, UploadAddBody, UploadFileReply, UploadReply } from '../api/schemas.ts'
import { AddZone, type Picked } from './drop-zone.tsx'

/** An add still on its way from the browser to the daemon. */
interface Sending {
  key: string
  name: string
  sent: number
  total: number
  error?: unknown
}

export function AddPanel() {
  const [sending, setSending] = useState<Sending[]>([])

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
        const { id } = await api.post<UploadReply>('/v1/uploads')
        let done = 0
        for (const p of item) {
          await upload<UploadFileReply>(`/v1/uploads/${id}/files?path=${encodeURIComponent(p.path)}`, p.file, (n) =>
            update({ sent: done + n }),
          )
          done += p.file.size
          update({ sent: done })
        }
        await api.post<ContentTransfer>(`/v1/uploads/${id}/add`, {} satisfies UploadAddBody)
        setSending((list) => list.filter((s) => s.key !== key))
      } catch (error) {
        update({ error })
      }
    }
  }

  return (
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
  )
}
