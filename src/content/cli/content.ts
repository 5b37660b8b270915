/** File sharing: add, get, ls, pins, pin, unpin, gc, providers. */
import { resolve } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type Command, Option } from 'commander'
import { ApiClient, rebuildError } from '../../cli/client.ts'
import { liveEvents, untilInterrupted } from '../../cli/events.ts'
import { shortPeer } from '../../cli/message-format.ts'
import { emit, examples, type Globals, globals, table } from '../../cli/output.ts'
import { AbortedError, InvalidInputError } from '../../core/errors.ts'
import { formatBytes } from '../../core/units.ts'
import type {
  AddBody,
  AddResultView,
  ContentTransfer,
  GcReply,
  GetBody,
  GetResultView,
  LsReply,
  PinBody,
  PinsReply,
  ProvidersReply,
  UnpinReply,
} from '../api/schemas.ts'
import { progressView } from './progress.ts'

type TransferView = ContentTransfer

/**
 * Follow a transfer to its end, showing progress. Ctrl-C cancels it in the daemon (which
 * removes any partial output) and waits for the daemon to confirm.
 */
async function follow(client: ApiClient, started: TransferView, g: Globals): Promise<TransferView> {
  const view = progressView(started.kind === 'add' ? 'add' : 'get', !g.json)
  const interrupted = untilInterrupted()
  const cancel = () => void client.delete(`/v1/transfers/${started.id}`).catch(() => {})
  interrupted.addEventListener('abort', cancel, { once: true })
  let final: TransferView | undefined
  try {
    for await (const event of liveEvents(client, undefined, `/v1/transfers/${started.id}/events`)) {
      const t = event.data as TransferView
      if (t.progress !== undefined) view.update(t.progress)
      if (t.state !== 'running') {
        final = t
        break
      }
    }
  } finally {
    view.stop()
    interrupted.removeEventListener('abort', cancel)
  }
  if (final === undefined) throw new AbortedError('the daemon ended the transfer without a result')
  if (final.state === 'cancelled') throw new AbortedError('cancelled')
  if (final.state === 'failed') throw rebuildError(final.error)
  return final
}

/**
 * `get` without `-o`: the file goes to stdout while it downloads, in one pass (the daemon's data
 * route waits on the running transfer for blocks not stored yet), and the transfer is followed
 * for progress at the same time. A data stream that fails (a folder, a broken pipe) cancels the
 * transfer and is the error reported; a transfer that fails is reported as itself.
 */
async function followToStdout(
  client: ApiClient,
  cid: string,
  started: TransferView,
  g: Globals,
): Promise<GetResultView> {
  const stop = new AbortController()
  let dataError: Error | undefined
  let cancelledForData = false
  const data = (async () => {
    const res = await client.raw(`/v1/content/${encodeURIComponent(cid)}/data`, { signal: stop.signal })
    if (res.body !== null) await pipeline(Readable.fromWeb(res.body as never), process.stdout, { signal: stop.signal })
  })().catch((err: Error) => {
    if (stop.signal.aborted) return
    dataError = err
    cancelledForData = true
    void client.delete(`/v1/transfers/${started.id}`).catch(() => {})
  })
  let final: TransferView
  try {
    final = await follow(client, started, g)
  } catch (err) {
    const ours = cancelledForData && (err as Error).name === 'AbortedError'
    if (!ours) stop.abort()
    await data
    throw ours && dataError !== undefined ? dataError : err
  }
  await data
  if (dataError !== undefined) throw dataError
  return final.result as GetResultView
}

function timeoutMs(value: string): number {
  const s = Number(value)
  if (!Number.isFinite(s) || s <= 0)
    throw new InvalidInputError(`invalid --timeout ${JSON.stringify(value)}: seconds > 0`)
  return Math.round(s * 1000)
}

function summary(r: GetResultView): string {
  const rate = r.durationMs > 0 ? ` (${formatBytes((r.fetchedBytes / r.durationMs) * 1000)}/s)` : ''
  const lines = [
    `${r.output === undefined ? 'Fetched' : `Saved to ${r.output}:`} ${r.cid}, ${formatBytes(r.bytes)} in ${r.blocks} blocks; ${formatBytes(r.fetchedBytes)} fetched in ${(r.durationMs / 1000).toFixed(1)} s${rate}${r.storedBlocks > 0 ? `, ${r.storedBlocks} blocks were already here` : ''}`,
  ]
  if (r.peers.length > 0) {
    lines.push(
      table(
        ['PEER', 'BYTES', 'BLOCKS', 'STATE'],
        r.peers.map((p) => [shortPeer(p.peerId), formatBytes(p.bytes), String(p.blocks), p.state]),
      ),
    )
  }
  return lines.join('\n')
}

export function registerContent(program: Command): void {
  program
    .command('add')
    .description('add a file or folder: prints its root CID, keeps (pins) it and announces it to the network')
    .argument('<path>', 'file or folder')
    .addOption(
      new Option('--cid-version <n>', 'CID version: 1 (default) or 0 (classic IPFS settings)').choices(['0', '1']),
    )
    .option(
      '--chunker <size-N>',
      'chunk size, e.g. size-262144 (default size-1048576; size-262144 with --cid-version 0)',
    )
    .option('--raw-leaves [bool]', 'store file chunks as raw blocks (default true with CIDv1, false with CIDv0)')
    .option('--only-hash', 'compute the CIDs without storing or announcing anything')
    .addHelpText(
      'after',
      examples(
        'lateral add ./photos',
        'lateral add report.pdf --json',
        'lateral add big.iso --cid-version 0        # the CID classic `ipfs add` prints',
        'lateral add notes.txt --only-hash',
      ),
    )
    .action(
      async (
        path: string,
        opts: { cidVersion?: '0' | '1'; chunker?: string; rawLeaves?: string | boolean; onlyHash?: boolean },
        cmd: Command,
      ) => {
        const g = globals(cmd)
        const client = await ApiClient.forHome(g.home)
        const rawLeaves =
          opts.rawLeaves === undefined ? undefined : opts.rawLeaves === true || opts.rawLeaves === 'true'
        if (typeof opts.rawLeaves === 'string' && !['true', 'false'].includes(opts.rawLeaves))
          throw new InvalidInputError('--raw-leaves takes true or false')
        const started = await client.post<TransferView>('/v1/content', {
          path: resolve(path),
          ...(opts.cidVersion === undefined ? {} : { cidVersion: opts.cidVersion === '0' ? 0 : 1 }),
          ...(opts.chunker === undefined ? {} : { chunker: opts.chunker }),
          ...(rawLeaves === undefined ? {} : { rawLeaves }),
          ...(opts.onlyHash === true ? { onlyHash: true } : {}),
        } satisfies AddBody)
        const result = (await follow(client, started, g)).result as AddResultView
        emit(g, result, () => {
          const entries =
            result.entries.length > 1 ? `${result.entries.map((e) => `added ${e.cid} ${e.path}`).join('\n')}\n` : ''
          return `${entries}${result.cid}`
        })
      },
    )

  program
    .command('get')
    .description('fetch content from every peer that has it at once; a file goes to stdout unless -o is given')
    .argument('<cid>', 'root CID')
    .option('-o, --output <path>', 'write the file or folder here (must not exist; nothing is left behind if it fails)')
    .option(
      '--timeout <seconds>',
      'fail when no peer provides it for this long (default content.providerTimeoutMs, 60 s)',
      timeoutMs,
    )
    .option('--no-pin', 'do not keep the content after writing it out (it goes at the next gc)')
    .addHelpText(
      'after',
      examples(
        'lateral get bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi -o ./photos',
        'lateral get bafkreib... > notes.txt',
        'lateral get bafybei... -o ./photos --json   # summary with the bytes each peer delivered',
      ),
    )
    .action(async (cid: string, opts: { output?: string; timeout?: number; pin: boolean }, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      const toStdout = opts.output === undefined
      if (toStdout && g.json) throw new InvalidInputError('--json needs -o: without it the file itself goes to stdout')
      const started = await client.post<TransferView>(`/v1/content/${encodeURIComponent(cid)}/get`, {
        ...(opts.output === undefined ? {} : { output: resolve(opts.output) }),
        ...(opts.timeout === undefined ? {} : { timeoutMs: opts.timeout }),
        pin: opts.pin,
      } satisfies GetBody)
      if (toStdout) {
        const result = await followToStdout(client, cid, started, g)
        if (process.stderr.isTTY === true) process.stderr.write(`${summary(result)}\n`)
        return
      }
      const result = (await follow(client, started, g)).result as GetResultView
      emit(g, result, () => summary(result))
    })

  program
    .command('ls')
    .description("a folder's entries with their sizes (fetched from peers if not stored here)")
    .argument('<cid>', 'folder CID')
    .option('--timeout <seconds>', 'fail when no peer provides it for this long', timeoutMs)
    .addHelpText('after', examples('lateral ls bafybei...', 'lateral ls bafybei... --json'))
    .action(async (cid: string, opts: { timeout?: number }, cmd: Command) => {
      const g = globals(cmd)
      const query = opts.timeout === undefined ? '' : `?timeoutMs=${opts.timeout}`
      const result = await (await ApiClient.forHome(g.home)).get<LsReply>(
        `/v1/content/${encodeURIComponent(cid)}${query}`,
      )
      emit(g, result, () =>
        table(
          ['NAME', 'SIZE', 'TYPE', 'CID'],
          result.entries.map((e) => [
            e.type === 'directory' ? `${e.name}/` : e.name,
            formatBytes(e.size),
            e.type,
            e.cid,
          ]),
        ),
      )
    })

  program
    .command('pins')
    .description('content this node keeps (pinned), with sizes')
    .addHelpText('after', examples('lateral pins', 'lateral pins --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const result = await (await ApiClient.forHome(g.home)).get<PinsReply>('/v1/pins')
      emit(g, result, () =>
        result.pins.length === 0
          ? 'Nothing is pinned.'
          : table(
              ['CID', 'SIZE', 'PINNED'],
              result.pins.map((p) => [
                p.cid,
                p.size === undefined ? '?' : formatBytes(p.size),
                new Date(p.addedAt).toISOString().replace('T', ' ').slice(0, 19),
              ]),
            ),
      )
    })

  program
    .command('pin')
    .description('keep content: fetches whatever is missing, then pins and announces it')
    .argument('<cid>', 'root CID')
    .option('--timeout <seconds>', 'fail when no peer provides missing blocks for this long', timeoutMs)
    .addHelpText('after', examples('lateral pin bafybei...'))
    .action(async (cid: string, opts: { timeout?: number }, cmd: Command) => {
      const g = globals(cmd)
      const client = await ApiClient.forHome(g.home)
      const started = await client.post<TransferView>(`/v1/pins/${encodeURIComponent(cid)}`, {
        ...(opts.timeout === undefined ? {} : { timeoutMs: opts.timeout }),
      } satisfies PinBody)
      const result = (await follow(client, started, g)).result as GetResultView
      emit(g, result, () => `Pinned ${cid} (${formatBytes(result.bytes)})`)
    })

  program
    .command('unpin')
    .description('stop keeping content; its blocks are freed by the next gc')
    .argument('<cid>', 'root CID')
    .addHelpText('after', examples('lateral unpin bafybei...', 'lateral unpin bafybei... && lateral gc'))
    .action(async (cid: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const result = await (await ApiClient.forHome(g.home)).delete<UnpinReply>(`/v1/pins/${encodeURIComponent(cid)}`)
      emit(g, result, () => `Unpinned ${cid}`)
    })

  program
    .command('gc')
    .description('delete every stored block that no pin needs')
    .addHelpText('after', examples('lateral gc', 'lateral gc --json'))
    .action(async (_opts: unknown, cmd: Command) => {
      const g = globals(cmd)
      const result = await (await ApiClient.forHome(g.home)).post<GcReply>('/v1/gc', {})
      emit(
        g,
        result,
        () => `Removed ${result.removed} block${result.removed === 1 ? '' : 's'} (${formatBytes(result.bytes)})`,
      )
    })

  program
    .command('providers')
    .description('peers that have the content: connected peers asked directly, and DHT provider records')
    .argument('<cid>', 'root CID')
    .option('--timeout <seconds>', 'how long to search (default content.providersTimeoutMs, 10 s)', timeoutMs)
    .addHelpText('after', examples('lateral providers bafybei...', 'lateral providers bafybei... --json'))
    .action(async (cid: string, opts: { timeout?: number }, cmd: Command) => {
      const g = globals(cmd)
      const query = opts.timeout === undefined ? '' : `?timeoutMs=${opts.timeout}`
      const result = await (await ApiClient.forHome(g.home)).get<ProvidersReply>(
        `/v1/content/${encodeURIComponent(cid)}/providers${query}`,
      )
      emit(g, result, () =>
        result.providers.length === 0
          ? `No provider found for ${cid}.`
          : table(
              ['PEER', 'FOUND BY', 'ADDRESS'],
              result.providers.map((p) => [p.peerId, p.sources.join('+'), p.addresses[0] ?? '']),
            ),
      )
    })
}
