/**
 * `npm run demo`: a small Lateral network on this machine to look at in the browser.
 *
 * Five daemons on 127.0.0.1 with temporary homes: three hold a sample folder, four talk in the
 * topic "lobby" (one of them answers whoever writes there), and the fifth is a fresh node: its
 * dashboard opens signed in, ready to fetch the folder from the three peers at once and to chat.
 * Seeders upload at most 4 MiB/s each so the per-peer progress can be watched.
 * Ctrl-C stops every daemon and removes the temporary homes. Enter prints a new login link.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { ApiClient } from '../src/cli/client.ts'
import { liveEvents } from '../src/cli/events.ts'
import { createTestnet, type TestDaemon, type Testnet } from '../src/testing/testnet.ts'

const SEEDERS = [0, 1, 2]
const TALKERS = [0, 1, 2, 3]
const FRESH = 4
const TOPIC = 'lobby'
const SEED_RATE = 4 * 1024 * 1024

const out = (line = '') => process.stdout.write(`${line}\n`)

async function call<T>(d: TestDaemon, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${d.info.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${d.info.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const json = (await res.json()) as T & { error?: { message: string } }
  if (!res.ok) throw new Error(`${method} ${path}: ${json.error?.message ?? res.status}`)
  return json
}

/** A folder worth fetching: text, a few "photos", a nested folder; about 40 MiB. */
async function sampleFolder(root: string): Promise<string> {
  const dir = join(root, 'sample-folder')
  await mkdir(join(dir, 'photos', '2026'), { recursive: true })
  await writeFile(
    join(dir, 'README.txt'),
    'A sample folder shared by three Lateral nodes.\nEvery block you fetch is checked against its hash.\n',
  )
  for (let i = 1; i <= 6; i++) await writeFile(join(dir, 'photos', `photo-${i}.jpg`), randomBytes(5 * 1024 * 1024))
  await writeFile(join(dir, 'photos', '2026', 'panorama.raw'), randomBytes(9 * 1024 * 1024))
  await writeFile(join(dir, 'notes.md'), '# Notes\n\n- fetched from many peers at once\n- verified block by block\n')
  return dir
}

/** Node 1 answers every message in the lobby that is not its own, so a new user sees the chat work. */
async function answerInLobby(net: Testnet, signal: AbortSignal): Promise<void> {
  const bot = net.daemons[1] as TestDaemon
  const client = await ApiClient.forHome(bot.home)
  for await (const { event, data } of liveEvents(client, signal)) {
    if (event !== 'topic:message') continue
    const m = data as { topic: string; from: string; text?: string }
    if (m.topic !== TOPIC || m.from === bot.peerId || m.text === undefined) continue
    await call(bot, 'POST', `/v1/topics/${TOPIC}/publish`, {
      text: `node 1 here: got "${m.text.slice(0, 200)}" from …${m.from.slice(-6)}`,
    }).catch(() => {})
  }
}

async function loginUrl(net: Testnet): Promise<string> {
  // `lateral ui` opens the default browser where there is one, and prints the link in any case.
  const ui = await net.cli(FRESH, ['ui'])
  if (ui.code !== 0) throw new Error(`lateral ui failed: ${ui.stderr}`)
  return ui.stdout.split('\n')[0] as string
}

async function main(): Promise<void> {
  const t0 = performance.now()
  const work = await mkdtemp(join(tmpdir(), 'lateral-demo-'))
  out('Starting 5 Lateral daemons on 127.0.0.1 (temporary homes)…')
  let net: Testnet | undefined
  const stopBot = new AbortController()
  let stopping = false
  const stop = async (code: number) => {
    if (stopping) return
    stopping = true
    out('\nStopping every daemon and removing the temporary homes…')
    stopBot.abort()
    await net?.stop()
    await rm(work, { recursive: true, force: true })
    out('Done.')
    process.exit(code)
  }
  process.on('SIGINT', () => void stop(0))
  process.on('SIGTERM', () => void stop(0))
  try {
    net = await createTestnet(5, { bootstrap: 'first' })
    const folder = await sampleFolder(work)
    let cid = ''
    for (const i of SEEDERS) {
      const d = net.daemons[i] as TestDaemon
      const added = await call<{ result: { cid: string; size: number } }>(d, 'POST', '/v1/content', {
        path: folder,
        wait: true,
      })
      cid = added.result.cid
      await call(d, 'POST', '/v1/content/limits', { uploadLimit: SEED_RATE })
    }
    for (const i of TALKERS) await call(net.daemons[i] as TestDaemon, 'POST', `/v1/topics/${TOPIC}/join`, {})
    void answerInLobby(net, stopBot.signal).catch(() => {})
    const fresh = net.daemons[FRESH] as TestDaemon
    const url = await loginUrl(net)
    const seconds = ((performance.now() - t0) / 1000).toFixed(1)
    out()
    out(`Ready in ${seconds} s. Five nodes:`)
    for (const d of net.daemons) {
      const role =
        d.index === FRESH
          ? 'fresh node: yours'
          : [
              SEEDERS.includes(d.index) ? 'holds the sample folder' : '',
              TALKERS.includes(d.index) ? `in "${TOPIC}"` : '',
            ]
              .filter((x) => x !== '')
              .join(', ')
      out(`  node ${d.index}  ${d.peerId}  ${role}`)
    }
    out()
    out("Open the fresh node's dashboard (this link signs you in once, for 2 minutes):")
    out(`  ${url}`)
    out()
    out('Then try:')
    out(`  Files: paste ${cid}`)
    out('         and watch it come from three peers at once (each seeder sends at most 4 MiB/s).')
    out(`  Topics & messages: join "${TOPIC}" and say hello; node 1 answers.`)
    out(`  From a terminal: lateral --home ${fresh.home} status`)
    out()
    out('Enter prints a new login link; Ctrl-C stops everything.')
    const rl = createInterface({ input: process.stdin })
    rl.on('line', () => {
      if (net !== undefined) void loginUrl(net).then((u) => out(`  ${u}`))
    })
  } catch (err) {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`)
    await stop(1)
  }
}

void main()
