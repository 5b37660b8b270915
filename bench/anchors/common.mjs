// Shared by the anchor peers: one JSON line on stdout per report.
export function report(extra, cpuStart) {
  const cpu = process.cpuUsage(cpuStart)
  process.stdout.write(
    `${JSON.stringify({ ...extra, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`,
  )
}

export async function firstLine() {
  let buffered = ''
  for await (const chunk of process.stdin) {
    buffered += chunk
    const nl = buffered.indexOf('\n')
    if (nl >= 0) return JSON.parse(buffered.slice(0, nl))
  }
  throw new Error('stdin ended')
}
