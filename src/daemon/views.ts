/** How binary message bodies appear in JSON: base64 always, and text for text/* types. */
export function bodyView(type: string, body: Uint8Array): { text?: string; base64: string } {
  const base64 = Buffer.from(body).toString('base64')
  if (!type.startsWith('text/')) return { base64 }
  return { text: new TextDecoder().decode(body), base64 }
}
