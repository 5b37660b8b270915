/** How content's routes answer with a transfer they started (add, get, pin, an upload's add). */
import { Type } from '@sinclair/typebox'
import { errorResponses, transfer } from '../../daemon/schemas.ts'
import type { TransferView } from '../../daemon/transfers.ts'

/** 202 while it runs (follow it on its event stream), 200 once over (`wait: true`). */
export const startedResponses = { 200: Type.Ref(transfer), 202: Type.Ref(transfer), ...errorResponses }

export function answerTransfer(reply: { status(code: number): unknown }, view: TransferView): TransferView {
  reply.status(view.state === 'running' ? 202 : 200)
  return view
}
