/** Replace busy fixed TCP ports in listen addresses by 0 (ephemeral), as a user would expect. */
import { createServer } from 'node:net'

const TCP_ADDR = /^\/(ip4|ip6)\/([^/]+)\/tcp\/(\d+)(\/.*)?$/

export async function freeListenAddresses(listen: string[]): Promise<string[]> {
  const out: string[] = []
  for (const addr of listen) {
    const m = TCP_ADDR.exec(addr)
    const port = m === null ? 0 : Number(m[3])
    if (m === null || port === 0 || (await portIsFree(m[2] as string, port))) {
      out.push(addr)
    } else {
      out.push(`/${m[1]}/${m[2]}/tcp/0${m[4] ?? ''}`)
    }
  }
  return out
}

function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)))
  })
}
