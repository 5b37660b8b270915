/** What this node keeps (its pins): size, since when, open or download, unpin. */
import { api } from '../../../web/src/api.ts'
import { Card, Copy, ErrorNote, useAction } from '../../../web/src/components.tsx'
import { bytes, clock, short } from '../../../web/src/format.ts'
import { useLoad } from '../../../web/src/hooks.ts'
import type { PinsReply, UnpinReply } from '../api/schemas.ts'
import { Contents } from './contents.tsx'

type Pin = PinsReply['pins'][number]

/** `names` gives a CID the path it was added from in this browser, where known. */
export function KeptList({ names }: { names: ReadonlyMap<string, string> }) {
  const pins = useLoad(() => api.get<PinsReply>('/v1/pins'), {
    refreshOn: ['transfer:done'],
  })
  return (
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
  )
}

function PinRow({ pin, name, onChange }: { pin: Pin; name: string | undefined; onChange: () => void }) {
  const unpin = useAction(async () => {
    await api.delete<UnpinReply>(`/v1/pins/${encodeURIComponent(pin.cid)}`)
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
