/**
 * A NAT lab's owner that never cleans up: it builds a lab (a public host, a UPnP home router with
 * its miniupnpd, a host behind it), starts a daemon on the public host, prints what it made as
 * one JSON line and waits to be killed. test/natlab-reaper.lab.ts SIGKILLs it.
 */
import { createNatLab } from '../../src/testing/natlab/index.ts'

const lab = await createNatLab([
  { name: 'pub', kind: 'public' },
  { name: 'lan', kind: 'upnp' },
])
const daemon = await lab.startDaemon('pub', ['--no-upnp'])
const namespaces = [...lab.hosts.values()].flatMap((h) => [h.ns, ...(h.router === undefined ? [] : [h.router])])
process.stdout.write(`${JSON.stringify({ daemonPid: daemon.info.pid, namespaces, dir: lab.dir })}\n`)
setInterval(() => {}, 60_000)
