/**
 * NAT routers of the lab: nftables rules in a router namespace, and miniupnpd for UPnP.
 *
 * - home: `masquerade` keeps the host's source port when free (endpoint-independent mapping);
 *   conntrack lets in only replies from the address and port a host sent to (address-and-port
 *   dependent filtering). The common home router.
 * - hard: `masquerade random`: a new random port per connection (endpoint-dependent mapping), the
 *   "symmetric" NAT that defeats hole punching everywhere.
 * - carrier: a carrier-grade NAT (100.64/10 inside) with a home NAT behind it.
 * Every router drops what comes from the WAN unasked (a stateful firewall, as home routers and
 * carrier NATs do), rather than answering it with a TCP reset.
 * A nat prerouting chain is declared even when empty: without one the kernel does not NAT the
 * replies' destination (iroh's patchbay found the same).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { nft } from './sh.ts'

export type NatKind = 'home' | 'hard'

export function natRules(kind: NatKind, wan: string): string {
  // A home router's stateful firewall: from the WAN only what answers a connection from inside
  // (or what a UPnP mapping forwards); anything else is dropped, not answered with a reset.
  return `table inet fw {
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "${wan}" ct state established,related accept
    iifname "${wan}" drop
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "${wan}" ct state established,related accept
    iifname "${wan}" ct status dnat accept
    iifname "${wan}" drop
  }
}
table ip nat {
  chain prerouting { type nat hook prerouting priority -100; policy accept; }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    oifname "${wan}" masquerade${kind === 'hard' ? ' random' : ''}
  }
}
`
}

export async function applyNat(ns: string, kind: NatKind, wan: string): Promise<void> {
  await nft(ns, natRules(kind, wan))
}

/**
 * Start miniupnpd in router namespace `ns` (WAN `wan`, LAN `lan` with `lanCidr`), with its own
 * nftables table. Returns the process (ended by PID in the lab's teardown).
 */
export async function startMiniupnpd(
  ns: string,
  dir: string,
  opts: { wan: string; lan: string; lanCidr: string },
): Promise<ChildProcess> {
  // miniupnpd's nftables backend expects its chains to exist (Debian's nft_init.sh makes them).
  await nft(
    ns,
    `table inet upnp {
  chain forward {
    type filter hook forward priority 0; policy accept;
    jump miniupnpd
  }
  chain miniupnpd {
  }
  chain prerouting {
    type nat hook prerouting priority -100; policy accept;
    jump prerouting_miniupnpd
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    jump postrouting_miniupnpd
  }
  chain prerouting_miniupnpd {
  }
  chain postrouting_miniupnpd {
  }
}
`,
  )
  const conf = join(dir, `miniupnpd-${ns}.conf`)
  await writeFile(
    conf,
    [
      `ext_ifname=${opts.wan}`,
      `listening_ip=${opts.lan}`,
      'port=0',
      'enable_natpmp=no',
      'enable_upnp=yes',
      'secure_mode=yes',
      'system_uptime=yes',
      'notify_interval=5',
      'upnp_table_name=upnp',
      'upnp_nat_table_name=upnp',
      'upnp_forward_chain=miniupnpd',
      'upnp_nat_chain=prerouting_miniupnpd',
      'upnp_nat_postrouting_chain=postrouting_miniupnpd',
      'uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b',
      `allow 1024-65535 ${opts.lanCidr} 1024-65535`,
      'deny 0-65535 0.0.0.0/0 0-65535',
      '',
    ].join('\n'),
  )
  const child = spawn(
    'ip',
    ['netns', 'exec', ns, 'miniupnpd', '-f', conf, '-d', '-P', join(dir, `miniupnpd-${ns}.pid`)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let log = ''
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    log += d
  })
  // Ready once it listens for SSDP; a config error ends it at once.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => (/HTTP listening/.test(log) ? resolve() : reject(new Error(`miniupnpd: ${log}`))),
      3000,
    )
    child.stderr?.on('data', () => {
      if (/HTTP listening/.test(log)) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`miniupnpd exited with ${code}: ${log}`))
    })
  })
  return child
}

/** The UPnP port forwards miniupnpd has made in router namespace `ns`, as `external port -> host:port`. */
export async function upnpForwards(ns: string): Promise<string> {
  const { inNs } = await import('./sh.ts')
  return inNs(ns, 'nft', 'list', 'chain', 'inet', 'upnp', 'prerouting_miniupnpd')
}
