/** One line per message for people: time, sender, text (or a note for binary bodies). */
export interface MessageLike {
  from: string
  time: number
  type: string
  text?: string
  base64: string
  /** The sender's contact name, when the sender's identity has one here. */
  contact?: string
}

export function shortPeer(peerId: string): string {
  return peerId.length > 16 ? `${peerId.slice(0, 8)}…${peerId.slice(-6)}` : peerId
}

export function formatMessage(m: MessageLike, prefix = ''): string {
  const when = new Date(m.time).toISOString().replace('T', ' ').slice(0, 19)
  const body = m.text ?? `(${m.type}, ${Buffer.from(m.base64, 'base64').length} bytes)`
  const who = m.contact === undefined ? shortPeer(m.from) : `${m.contact} (${shortPeer(m.from)})`
  return `${when}  ${prefix}${who}  ${body}`
}
