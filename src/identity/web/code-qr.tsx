/** A QR code of a pairing code, drawn as SVG squares (no markup strings), for a camera to read. */
import { useMemo } from 'preact/hooks'
import { encode } from 'uqr'

export function CodeQr({ text, label }: { text: string; label: string }) {
  // Low error correction keeps a long code (it carries the new device's addresses) readable on a small screen.
  const qr = useMemo(() => encode(text, { ecc: 'L', border: 2 }), [text])
  const cells: string[] = []
  qr.data.forEach((row, y) => {
    row.forEach((on, x) => {
      if (on) cells.push(`M${x} ${y}h1v1h-1z`)
    })
  })
  return (
    <svg
      class="qr pairing-qr"
      viewBox={`0 0 ${qr.size} ${qr.size}`}
      role="img"
      aria-label={label}
      data-testid="pairing-qr"
    >
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={cells.join('')} fill="#111" shape-rendering="crispEdges" />
    </svg>
  )
}
