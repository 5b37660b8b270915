/**
 * The NAT lab: an "internet" and hosts behind real NATs, all in network namespaces of this
 * machine, none linked to the machine's own network. The internet is a namespace holding one
 * bridge that routes between /8s that libp2p does not call private (11/8, 12/8, ...): every
 * public host or router WAN gets its own /8, so AutoNAT's "different network segment" rule holds.
 * Behind a router, hosts live on 192.168.k/24 (and a carrier NAT's customers on 100.64.k/24).
 *
 * @example
 * ```ts
 * const lab = await createNatLab([{ name: 'relay', kind: 'public' }, { name: 'alice', kind: 'home' }])
 * t.after(() => lab.destroy())
 * const d = await lab.startDaemon('alice', ['--bootstrap', addr])
 * ```
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { apiInNamespace, type CliResult, runCli, startTestDaemon, type TestDaemon } from '../testnet.ts'
import { destroyNamespacesSync, reapStaleLabs, removeOwnerRecord, writeOwnerRecord } from './reaper.ts'
import { applyNat, startMiniupnpd } from './router.ts'
import { inNs, sh } from './sh.ts'

/** public: on the internet itself; upnp: a home NAT whose router runs miniupnpd. */
export type LabHostKind = 'public' | 'home' | 'hard' | 'carrier' | 'upnp'

export interface LabHost {
  name: string
  kind: LabHostKind
  ns: string
  /** The host's own address (public for `public`, private behind a NAT). */
  address: string
  /** The address the internet sees for it: its own, or its (outermost) router's. */
  publicAddress: string
  /** The router namespace in front of it (the inner one for a carrier NAT). */
  router?: string
  /** Command prefix that runs a program on this host. */
  wrap: string[]
}

export interface NatLab {
  hosts: Map<string, LabHost>
  host(name: string): LabHost
  /** A temporary folder for homes and configs, removed by destroy(). */
  dir: string
  /**
   * `lateral init` then `lateral daemon` on a host, listening on its address, port LAB_PORT;
   * `--api 127.0.0.1:0 --no-mdns` added. A public host's `address` is its dialable multiaddr.
   */
  startDaemon(name: string, args?: string[], env?: NodeJS.ProcessEnv): Promise<TestDaemon>
  /** Run `lateral <args> --home <that daemon's home>` on the daemon's host. */
  cli(daemon: TestDaemon, args: string[], timeoutMs?: number): Promise<CliResult>
  /**
   * GET a path of a daemon's API from inside its host (curl in the namespace: the API listens on
   * the namespace's own loopback; far lighter than a `lateral` CLI process for polling).
   */
  api<T>(daemon: TestDaemon, path: string): Promise<T>
  /** Stop a daemon (SIGTERM, by PID) and wait for it to exit. */
  stopDaemon(daemon: TestDaemon): Promise<void>
  destroy(): Promise<void>
}

/** Every daemon listens on this TCP port (each host is its own namespace, so none collide). */
export const LAB_PORT = 4001

/** First octets of the internet's /8s: not private, loopback, multicast or documentation. */
const OCTETS = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]

export async function createNatLab(spec: Array<{ name: string; kind: LabHostKind }>): Promise<NatLab> {
  if (spec.length > OCTETS.length) throw new Error(`the lab has room for ${OCTETS.length} hosts`)
  // Labs whose owner died (a test file killed by a timeout) go first: their namespaces, processes, folder.
  reapStaleLabs()
  const tag = (process.pid % 100000).toString(36)
  const p = `nl${tag}${(labCount++).toString(36)}`
  const inet = `${p}i`
  const namespaces: string[] = []
  const processes: ChildProcess[] = []
  const daemons: TestDaemon[] = []
  const hosts = new Map<string, LabHost>()
  const dir = await mkdtemp(join(tmpdir(), 'lateral-natlab-'))
  let vethCount = 0
  // The owner record is on disk before any namespace exists, and names each one before it is made.
  const links: string[] = []
  const record = () => writeOwnerRecord(p, { namespaces, links, dir })
  record()
  // If this process ends without destroy() (an uncaught error, a signal), the lab goes with it.
  const onExit = () => {
    for (const d of daemons) d.process?.kill('SIGKILL')
    for (const c of processes) c.kill('SIGKILL')
    destroyNamespacesSync(namespaces, dir, links)
    removeOwnerRecord(p)
  }
  process.once('exit', onExit)
  exitOnSignals()

  const addNs = async (ns: string) => {
    namespaces.push(ns)
    record()
    await sh('ip', 'netns', 'add', ns)
    await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
  }
  /** A veth pair between two namespaces, named `a` and `b` inside them. */
  const link = async (nsA: string, a: string, nsB: string, b: string) => {
    const ta = `${p}v${vethCount}a`
    const tb = `${p}v${vethCount++}b`
    // Made in the machine's namespace, then moved: if the owner dies in between, the reaper deletes it.
    links.push(ta)
    record()
    await sh('ip', 'link', 'add', ta, 'type', 'veth', 'peer', 'name', tb)
    await sh('ip', 'link', 'set', ta, 'netns', nsA)
    await sh('ip', 'link', 'set', tb, 'netns', nsB)
    await sh('ip', '-n', nsA, 'link', 'set', ta, 'name', a)
    await sh('ip', '-n', nsB, 'link', 'set', tb, 'name', b)
    await sh('ip', '-n', nsA, 'link', 'set', a, 'up')
    await sh('ip', '-n', nsB, 'link', 'set', b, 'up')
  }
  const forward = (ns: string) => inNs(ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
  /** Attach `ns` to the internet on its own /8 through interface `wan`; returns its address. */
  const attach = async (ns: string, k: number): Promise<string> => {
    const octet = OCTETS[k] as number
    await link(inet, `i${k}`, ns, 'wan')
    await sh('ip', '-n', inet, 'link', 'set', `i${k}`, 'master', 'br0')
    await sh('ip', '-n', inet, 'addr', 'add', `${octet}.0.0.1/8`, 'dev', 'br0')
    await sh('ip', '-n', ns, 'addr', 'add', `${octet}.0.0.2/8`, 'dev', 'wan')
    await sh('ip', '-n', ns, 'route', 'add', 'default', 'via', `${octet}.0.0.1`)
    return `${octet}.0.0.2`
  }
  /** A LAN between router `router` and host `host` on `net`.0/24 (.1 the router, .2 the host). */
  const lan = async (router: string, host: string, net: string) => {
    await link(router, 'lan', host, 'eth0')
    await sh('ip', '-n', router, 'addr', 'add', `${net}.1/24`, 'dev', 'lan')
    await sh('ip', '-n', host, 'addr', 'add', `${net}.2/24`, 'dev', 'eth0')
    await sh('ip', '-n', host, 'route', 'add', 'default', 'via', `${net}.1`)
    // SSDP (UPnP discovery) and mDNS are multicast: route them onto the LAN.
    await sh('ip', '-n', host, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0')
    return `${net}.2`
  }

  const destroy = async () => {
    // A ban between lab hosts is never expected and explains a failure like no other line.
    for (const d of daemons) {
      for (const line of d.stderr.split('\n').filter((l) => l.includes('peer banned'))) {
        console.log(`# lab daemon ${d.peerId}: ${line.slice(0, 500)}`)
      }
    }
    await Promise.all(daemons.map((d) => stopProcess(d.process)))
    await Promise.all(processes.map((c) => stopProcess(c)))
    // Whatever still runs inside a namespace (a daemon whose start failed half-way) is killed
    // before the namespaces go: a deleted namespace lives on, with its processes, while they run.
    destroyNamespacesSync(namespaces, dir, links)
    removeOwnerRecord(p)
    process.removeListener('exit', onExit)
  }

  try {
    await addNs(inet)
    await sh('ip', '-n', inet, 'link', 'add', 'br0', 'type', 'bridge')
    await sh('ip', '-n', inet, 'link', 'set', 'br0', 'up')
    await forward(inet)
    // Routing between /8s on one bridge: no ICMP redirects, every packet goes through here.
    await inNs(inet, 'sysctl', '-qw', 'net.ipv4.conf.all.send_redirects=0')
    await inNs(inet, 'sysctl', '-qw', 'net.ipv4.conf.br0.send_redirects=0')
    for (const [k, { name, kind }] of spec.entries()) {
      const hostNs = `${p}h${k}`
      await addNs(hostNs)
      const wrap = ['ip', 'netns', 'exec', hostNs]
      if (kind === 'public') {
        const address = await attach(hostNs, k)
        hosts.set(name, { name, kind, ns: hostNs, address, publicAddress: address, wrap })
        continue
      }
      const router = `${p}r${k}`
      await addNs(router)
      await forward(router)
      let publicAddress: string
      if (kind === 'carrier') {
        const cgnat = `${p}c${k}`
        await addNs(cgnat)
        await forward(cgnat)
        publicAddress = await attach(cgnat, k)
        await link(cgnat, 'lan', router, 'wan')
        await sh('ip', '-n', cgnat, 'addr', 'add', `100.64.${k}.1/24`, 'dev', 'lan')
        await sh('ip', '-n', router, 'addr', 'add', `100.64.${k}.2/24`, 'dev', 'wan')
        await sh('ip', '-n', router, 'route', 'add', 'default', 'via', `100.64.${k}.1`)
        // Carrier NATs keep ports (endpoint-independent mapping, RFC 6888).
        await applyNat(cgnat, 'home', 'wan')
      } else {
        publicAddress = await attach(router, k)
      }
      const address = await lan(router, hostNs, `192.168.${k}`)
      await applyNat(router, kind === 'hard' ? 'hard' : 'home', 'wan')
      // The UPnP router, and the home router behind the carrier NAT (so double NAT shows).
      if (kind === 'upnp' || kind === 'carrier') {
        processes.push(await startMiniupnpd(router, dir, { wan: 'wan', lan: 'lan', lanCidr: `192.168.${k}.0/24` }))
      }
      hosts.set(name, { name, kind, ns: hostNs, address, publicAddress, router, wrap })
    }
  } catch (err) {
    await destroy()
    throw err
  }

  const host = (name: string): LabHost => {
    const h = hosts.get(name)
    if (h === undefined) throw new Error(`no host ${name} in the lab`)
    return h
  }
  const wrapOf = new Map<TestDaemon, string[]>()

  return {
    hosts,
    host,
    dir,
    async startDaemon(name, args = [], env = {}) {
      const h = host(name)
      const home = join(dir, `${name}-${daemons.length}`)
      const init = await runCli(['init', '--home', home, '--no-passphrase'])
      if (init.code !== 0) throw new Error(`init on ${name}: ${init.stderr}`)
      const d = await startTestDaemon(
        daemons.length,
        home,
        ['--api', '127.0.0.1:0', '--no-mdns', '--listen', `/ip4/${h.address}/tcp/${LAB_PORT}`, ...args],
        env,
        h.wrap,
      )
      // libp2p announces a public address only once AutoNAT has confirmed it: the lab knows it.
      if (h.kind === 'public') d.address = `/ip4/${h.address}/tcp/${LAB_PORT}/p2p/${d.peerId}`
      daemons.push(d)
      wrapOf.set(d, h.wrap)
      return d
    },
    cli(daemon, args, timeoutMs) {
      return runCli([...args, '--home', daemon.home], {
        wrap: wrapOf.get(daemon) ?? [],
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      })
    },
    api<T>(daemon: TestDaemon, path: string): Promise<T> {
      return apiInNamespace<T>(daemon, wrapOf.get(daemon) ?? [], path)
    },
    async stopDaemon(daemon) {
      await stopProcess(daemon.process)
      daemon.process = undefined
    },
    destroy,
  }
}

let labCount = 0
let signalsHooked = false

/**
 * On SIGTERM, SIGINT or SIGHUP with no handler of the program's own, exit (status 128 + signal)
 * so that 'exit' handlers, the labs' cleanup among them, run. (A SIGKILLed owner is cleaned by
 * the next lab's reaper.)
 */
function exitOnSignals(): void {
  if (signalsHooked) return
  signalsHooked = true
  for (const [signal, n] of [
    ['SIGTERM', 15],
    ['SIGINT', 2],
    ['SIGHUP', 1],
  ] as const) {
    if (process.listenerCount(signal) === 0) process.once(signal, () => process.exit(128 + n))
  }
}

/** SIGTERM a process we started (by its PID), SIGKILL after 10 s, and wait for it to exit. */
async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exit = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exit
  clearTimeout(timer)
}
