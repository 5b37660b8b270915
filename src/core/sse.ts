/**
 * Server-sent events read from a byte stream: the one parser for the daemon's event streams,
 * used by the CLI, the dashboard and scripts. Pure: no Node or DOM dependency.
 */

export interface SseEvent {
  /** The `event:` field (`message` when absent). */
  event: string
  /** The `data:` lines joined with newlines. */
  data: string
}

export async function* parseSse(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder()
  let buffer = ''
  let event = 'message'
  let data: string[] = []
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true })
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '')
      buffer = buffer.slice(nl + 1)
      nl = buffer.indexOf('\n')
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n') }
        event = 'message'
        data = []
      } else if (line.startsWith('event:')) {
        event = line.slice(6).trim()
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).trimStart())
      }
    }
  }
}
