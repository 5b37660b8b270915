/**
 * Test hosts in Linux network namespaces: one bridge, a veth pair per host, addresses in a
 * private range chosen by the test, a multicast route so mDNS works. Needs root (CAP_NET_ADMIN,
 * CAP_SYS_ADMIN); `netnsUnavailable()` says why not where that is missing.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface NetnsHost {
  /** Namespace name, for `ip netns exec NAME ...`. */
  name: string
  address: string
  /** Command prefix that runs a program inside this host. */
  wrap: string[]
}

export interface NetnsLan {
  hosts: NetnsHost[]
  /** Cut or restore a host's link to the bridge. */
  setLink(i: number, up: boolean): Promise<void>
  /**
   * Split the LAN: frames between hosts of different groups are dropped on the bridge
   * (nftables, bridge family); hosts within a group still reach each other. `heal()` undoes it.
   */
  partition(groups: number[][]): Promise<void>
  heal(): Promise<void>
  destroy(): Promise<void>
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args)
}

/** Why namespaces cannot be made here, or undefined when they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  const probe = `latprobe${process.pid % 100000}`
  try {
    await ip('netns', 'add', probe)
    await ip('netns', 'del', probe)
    return undefined
  } catch (err) {
    return `cannot create network namespaces (needs root / CAP_SYS_ADMIN): ${(err as Error).message.split('\n')[0]}`
  }
}

/**
 * Create `count` hosts on one bridge in the root namespace, addressed 10.<a>.<b>.(i+1)/24 where
 * a.b derive from the pid so parallel runs do not collide.
 */
export async function createNetnsLan(count: number): Promise<NetnsLan> {
  const tag = (process.pid % 50000).toString(36)
  const bridge = `lbr${tag}`
  const subnet = `10.${200 + (process.pid % 50)}.${process.pid % 250}`
  const hosts: NetnsHost[] = []
  const vethHost = (i: number) => `lh${tag}x${i}`
  const table = `lat${tag}part`
  const heal = async () => {
    await run('nft', ['delete', 'table', 'bridge', table]).catch(() => {})
  }
  const destroy = async () => {
    await heal()
    for (let i = 0; i < count; i++) await ip('netns', 'del', `lat${tag}n${i}`).catch(() => {})
    await ip('link', 'del', bridge).catch(() => {})
  }
  try {
    await ip('link', 'add', bridge, 'type', 'bridge')
    await ip('link', 'set', bridge, 'up')
    for (let i = 0; i < count; i++) {
      const ns = `lat${tag}n${i}`
      const inner = `ln${tag}x${i}`
      const address = `${subnet}.${i + 1}`
      await ip('netns', 'add', ns)
      await ip('link', 'add', vethHost(i), 'type', 'veth', 'peer', 'name', inner)
      await ip('link', 'set', inner, 'netns', ns)
      await ip('link', 'set', vethHost(i), 'master', bridge)
      await ip('link', 'set', vethHost(i), 'up')
      await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', inner)
      await ip('-n', ns, 'link', 'set', inner, 'up')
      await ip('-n', ns, 'link', 'set', 'lo', 'up')
      await ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', inner)
      hosts.push({ name: ns, address, wrap: ['ip', 'netns', 'exec', ns] })
    }
  } catch (err) {
    await destroy()
    throw err
  }
  return {
    hosts,
    async setLink(i, up) {
      await ip('link', 'set', vethHost(i), up ? 'up' : 'down')
    },
    async partition(groups) {
      await heal()
      const rules = [
        `add table bridge ${table}`,
        `add chain bridge ${table} forward { type filter hook forward priority 0; policy accept; }`,
      ]
      for (const [g, group] of groups.entries()) {
        for (const [h, other] of groups.entries()) {
          if (g === h) continue
          for (const a of group)
            for (const b of other)
              rules.push(`add rule bridge ${table} forward iifname "${vethHost(a)}" oifname "${vethHost(b)}" drop`)
        }
      }
      await new Promise<void>((resolve, reject) => {
        const child = execFile('nft', ['-f', '-'], (err) => (err === null ? resolve() : reject(err)))
        child.stdin?.end(`${rules.join('\n')}\n`)
      })
    },
    heal,
    destroy,
  }
}
