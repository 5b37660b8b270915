/**
 * The dashboard on the daemon: its page (dashboard-page.ts) and its one-time sign-in
 * (sign-in.ts). Download links for the page are content's (src/content/api/download-links.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { LateralNode } from '../node/node.ts'
import { registerDashboardPage } from './dashboard-page.ts'
import { type LoginIssuer, registerSignIn } from './sign-in.ts'

export { DASHBOARD_DIR } from './dashboard-page.ts'
export type { LoginIssuer } from './sign-in.ts'

export async function registerDashboard(app: FastifyInstance, node: LateralNode, token: string): Promise<LoginIssuer> {
  await registerDashboardPage(app)
  return registerSignIn(app, node, token)
}
