/**
 * Adding from a browser: the page cannot name a path on this machine, so it streams the files
 * of one file or folder into an upload (a staging folder under the home), then asks for it to
 * be added. The add is then the same as `lateral add` of that file or folder, so the CIDs are
 * equal; the staged copy is removed when the add ends, however it ends.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FastifyPluginAsync } from 'fastify'
import { AlreadyExistsError, InvalidInputError, NotFoundError, StorageFullError } from '../../core/errors.ts'
import { errorResponses } from '../../daemon/schemas.ts'
import type { RouteContext } from '../../daemon/service-api.ts'
import {
  UPLOAD_PATH_MAX,
  type UploadAddBody,
  type UploadFileQuery,
  type UploadFileReply,
  type UploadParams,
  type UploadReply,
  uploadAddBody,
  uploadFileQuery,
  uploadFileReply,
  uploadParams,
  uploadReply,
} from './schemas.ts'
import { answerTransfer, startedResponses } from './transfer-reply.ts'

const MAX_SEGMENT = 255
const MAX_DEPTH = 64

interface Upload {
  id: string
  dir: string
  files: number
  bytes: number
  adding: boolean
}

/** Split a relative path from the page into safe segments (no `..`, no absolute, no empty parts). */
export function safeSegments(path: string): string[] {
  if (path.length === 0 || path.length > UPLOAD_PATH_MAX)
    throw new InvalidInputError(`path must be 1..${UPLOAD_PATH_MAX} characters`)
  const segments = path.split('/')
  if (segments.length > MAX_DEPTH) throw new InvalidInputError(`path is deeper than ${MAX_DEPTH} folders`)
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..' || s.length > MAX_SEGMENT || s.includes('\0') || s.includes('\\')) {
      throw new InvalidInputError(`invalid path ${JSON.stringify(path)}: relative, "/"-separated names without . or ..`)
    }
  }
  return segments
}

/**
 * The upload routes; staged files go under `<home>/uploads` (a temporary folder for a node
 * without a home, removed when the API closes).
 */
export const uploadRoutes: FastifyPluginAsync<RouteContext> = async (app, { node, transfers }) => {
  const root = node.home === undefined ? await mkdtemp(join(tmpdir(), 'lateral-uploads-')) : join(node.home, 'uploads')
  if (node.home === undefined) app.addHook('onClose', async () => rm(root, { recursive: true, force: true }))
  /** Uploads open at once (each is a folder being filled). */
  const maxOpen = node.config.daemon.uploadsOpen
  // Anything left from a daemon that was killed is stale.
  await rm(root, { recursive: true, force: true })
  await mkdir(root, { recursive: true, mode: 0o700 })
  const uploads = new Map<string, Upload>()
  const find = (id: string): Upload => {
    const upload = uploads.get(id)
    if (upload === undefined) throw new NotFoundError(`no upload ${id} (finished, cancelled, or the daemon restarted)`)
    return upload
  }
  const discard = async (upload: Upload) => {
    uploads.delete(upload.id)
    await rm(upload.dir, { recursive: true, force: true })
  }
  app.addHook('onClose', async () => {
    for (const upload of [...uploads.values()]) if (!upload.adding) await discard(upload)
  })

  // Upload bodies are streamed to disk as they come, never held in memory.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload))

  app.post(
    '/v1/uploads',
    {
      schema: {
        summary: 'Open an upload: a place to stream one file or folder from a browser before adding it',
        response: { 200: uploadReply, ...errorResponses },
      },
    },
    async (): Promise<UploadReply> => {
      if (uploads.size >= maxOpen) throw new InvalidInputError(`${maxOpen} uploads are open already; finish one`)
      const id = randomBytes(8).toString('hex')
      const dir = join(root, id)
      await mkdir(dir, { mode: 0o700 })
      uploads.set(id, { id, dir, files: 0, bytes: 0, adding: false })
      return { id }
    },
  )

  app.put<{ Params: UploadParams; Querystring: UploadFileQuery; Body: Readable }>(
    '/v1/uploads/:id/files',
    {
      schema: {
        summary: 'Stream one file of the upload (body: the bytes, application/octet-stream; ?path=folder/name)',
        params: uploadParams,
        querystring: uploadFileQuery,
        consumes: ['application/octet-stream'],
        response: { 200: uploadFileReply, ...errorResponses },
      },
    },
    async (req): Promise<UploadFileReply> => {
      const upload = find(req.params.id)
      if (upload.adding) throw new InvalidInputError(`upload ${upload.id} is being added; open a new one`)
      const segments = safeSegments(req.query.path)
      const [top] = segments
      const existing = await readdir(upload.dir)
      if (existing.length > 0 && !existing.includes(top as string)) {
        throw new InvalidInputError('an upload holds one file or folder: every path must start with the same name')
      }
      const target = join(upload.dir, ...segments)
      await mkdir(dirname(target), { recursive: true })
      let size = 0
      const body = req.body
      body.on('data', (chunk: Buffer) => {
        size += chunk.length
      })
      try {
        await pipeline(body, createWriteStream(target, { flags: 'wx', mode: 0o600 }))
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'EEXIST') await rm(target, { force: true })
        if (code === 'EEXIST') throw new AlreadyExistsError(`${req.query.path} is already in upload ${upload.id}`)
        if (code === 'ENOSPC') throw new StorageFullError(`no space left to stage ${req.query.path}`)
        if (code === 'EISDIR' || code === 'ENOTDIR')
          throw new InvalidInputError(`${req.query.path} clashes with a file or folder already uploaded`)
        throw err
      }
      upload.files++
      upload.bytes += size
      return { path: req.query.path, size }
    },
  )

  app.post<{ Params: UploadParams; Body: UploadAddBody | null }>(
    '/v1/uploads/:id/add',
    {
      schema: {
        summary: 'Add the uploaded file or folder (a transfer, as POST /v1/content); the upload is then removed',
        params: uploadParams,
        body: uploadAddBody,
        response: startedResponses,
      },
    },
    async (req, reply) => {
      const upload = find(req.params.id)
      if (upload.adding) throw new InvalidInputError(`upload ${upload.id} is already being added`)
      const [name, ...more] = await readdir(upload.dir)
      if (name === undefined || more.length > 0) throw new InvalidInputError(`upload ${upload.id} holds no file`)
      upload.adding = true
      const { wait, ...options } = req.body ?? {}
      const view = await transfers.start(
        { kind: 'add', path: name },
        async (signal, onProgress) => {
          try {
            return await node.content.addPath(join(upload.dir, name), { ...options, signal, onProgress })
          } finally {
            await discard(upload)
          }
        },
        wait === true,
      )
      return answerTransfer(reply, view)
    },
  )

  app.delete<{ Params: UploadParams }>(
    '/v1/uploads/:id',
    {
      schema: { summary: 'Drop an upload that is not being added', params: uploadParams },
    },
    async (req): Promise<UploadReply> => {
      const upload = find(req.params.id)
      if (upload.adding) throw new InvalidInputError(`upload ${upload.id} is being added; cancel its transfer instead`)
      await discard(upload)
      return { id: upload.id }
    },
  )
}
