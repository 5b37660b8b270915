/**
 * CPU profile of a stretch of this process (the inspector's sampling profiler), summarised by
 * where the time went: each sample's own function, attributed to its npm package (or to Node's
 * internals, the garbage collector, Lateral's src/), as shares of all samples.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
}

export async function profiled<T>(file: string | undefined, work: () => Promise<T>) {
  if (file === undefined) return { result: await work(), profile: undefined }
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  const result = await work()
  const { profile } = (await session.post('Profiler.stop')) as {
    profile: { nodes: ProfileNode[]; samples: number[] }
  }
  session.disconnect()
  writeFileSync(file, JSON.stringify(profile))
  return { result, profile: summarise(profile) }
}

function owner(url: string, name: string): string {
  if (name === '(garbage collector)') return 'garbage collector'
  if (name === '(idle)' || name === '(program)') return name.slice(1, -1)
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m !== null) return m[1] as string
  if (url.includes('/src/')) return 'lateral src'
  if (url.startsWith('node:') || url === '') return 'node internals'
  return 'other'
}

function summarise(profile: { nodes: ProfileNode[]; samples: number[] }) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const packages = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const id of profile.samples) {
    const n = byId.get(id)
    if (n === undefined) continue
    const pkg = owner(n.callFrame.url, n.callFrame.functionName)
    packages.set(pkg, (packages.get(pkg) ?? 0) + 1)
    const fn = `${n.callFrame.functionName || '(anonymous)'} (${pkg})`
    functions.set(fn, (functions.get(fn) ?? 0) + 1)
  }
  const total = profile.samples.length
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, c]) => ({ name, share: Math.round((c / total) * 1000) / 10 }))
  return { samples: total, byPackagePercent: top(packages, 15), topFunctionsPercent: top(functions, 15) }
}
