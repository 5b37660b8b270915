/**
 * Signing the dashboard in without putting the token in a URL: `lateral ui` asks for a one-time
 * login path (`/#login=CODE`), and the page trades the code in it for the token, once.
 */
import type { FastifyInstance } from 'fastify'
import { UnauthorizedError } from '../core/errors.ts'
import type { LateralNode } from '../node/node.ts'
import {
  type LoginReply,
  loginReply,
  type SessionBody,
  type SessionReply,
  sessionBody,
  sessionReply,
} from './dashboard-schemas.ts'
import { OneTimeCodes } from './one-time.ts'
import { errorResponses } from './schemas.ts'

/** Issues one-time login paths (`/#login=CODE`) for the page. */
export type LoginIssuer = () => LoginReply

/** POST /v1/ui/login and /v1/ui/session; returns the issuer `lateral daemon` uses for its link. */
export function registerSignIn(app: FastifyInstance, node: LateralNode, token: string): LoginIssuer {
  const { loginCodeTtlMs, loginCodesMax } = node.config.daemon
  const logins = new OneTimeCodes<true>({ ttlMs: loginCodeTtlMs, max: loginCodesMax })

  const issueLogin: LoginIssuer = () => {
    const { code, expiresAt } = logins.issue(true)
    // A fragment never reaches a server log or a Referer header.
    return { path: `/#login=${code}`, expiresAt }
  }

  app.post(
    '/v1/ui/login',
    {
      schema: {
        summary: 'A one-time dashboard login code (what `lateral ui` opens): single use, expires in 2 minutes',
        response: { 200: loginReply, ...errorResponses },
      },
    },
    async (): Promise<LoginReply> => issueLogin(),
  )

  app.post<{ Body: SessionBody }>(
    '/v1/ui/session',
    {
      config: { public: true },
      schema: {
        summary: 'Trade a one-time login code for the API token (no token needed; each code works once)',
        security: [],
        body: sessionBody,
        response: { 200: sessionReply, ...errorResponses },
      },
    },
    async (req, reply): Promise<SessionReply> => {
      if (logins.redeem(req.body.code) === undefined) {
        throw new UnauthorizedError('this login link was already used or has expired: run `lateral ui` for a new one')
      }
      reply.header('cache-control', 'no-store')
      return { token, peerId: node.peerId }
    },
  )
  return issueLogin
}
