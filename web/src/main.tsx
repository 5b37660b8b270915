/** The dashboard shell: sign-in, the daemon's reachability, and the four views. */
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import type { IdReply } from '../../src/daemon/schemas.ts'
import { api, connection, describe, redeemLogin, signOut, startEvents, token } from './api.ts'
import { duration } from './format.ts'
import { useLoad, useTick } from './hooks.ts'
import { useStore } from './store.ts'
import './style.css'
import type { ServiceView } from './service-view.ts'
import { SERVICE_VIEWS } from './service-views.ts'
import { NodeView } from './views/node.tsx'
import { PeersView } from './views/peers.tsx'

/** The node's own views, then one per service that has one (src/<service>/web/). */
const VIEWS: ServiceView[] = [
  { id: 'node', title: 'Node', View: NodeView },
  { id: 'peers', title: 'Peers', View: PeersView },
  ...Object.values(SERVICE_VIEWS).filter((v): v is ServiceView => v !== null),
]
type ViewId = string

function viewFromHash(): ViewId {
  const id = location.hash.slice(1)
  return VIEWS.some((v) => v.id === id) ? id : 'node'
}

function App({ loginError }: { loginError: unknown }) {
  const conn = useStore(connection)
  const [view, setView] = useState<ViewId>(viewFromHash())
  useEffect(() => {
    const on = () => setView(viewFromHash())
    window.addEventListener('hashchange', on)
    return () => window.removeEventListener('hashchange', on)
  }, [])
  if (conn.state === 'signed-out' || token() === undefined) return <SignIn error={loginError} detail={conn.detail} />
  return (
    <>
      <header class="top">
        <h1>
          <span class="logo">◇</span> Lateral
        </h1>
        <nav>
          {VIEWS.map((v) => (
            <a key={v.id} href={`#${v.id}`} class={v.id === view ? 'active' : ''} data-nav={v.id}>
              {v.title}
            </a>
          ))}
        </nav>
        <State />
        <button type="button" class="small" onClick={signOut} title="Forget the token in this browser">
          Sign out
        </button>
      </header>
      <Unreachable />
      {VIEWS.map((v) => (v.Banner === undefined ? null : <v.Banner key={v.id} />))}
      <main>
        <Views view={view} />
      </main>
    </>
  )
}

function Views({ view }: { view: ViewId }) {
  const id = useLoad(() => api.get<IdReply>('/v1/id'))
  const self = id.data?.peerId
  const View = (VIEWS.find((v) => v.id === view) ?? (VIEWS[0] as ServiceView)).View
  return <View self={self} />
}

function State() {
  const conn = useStore(connection)
  const label = conn.state === 'online' ? 'connected' : conn.state === 'connecting' ? 'connecting…' : 'unreachable'
  return (
    <span class={`state ${conn.state}`} data-testid="daemon-state" data-state={conn.state}>
      {label}
    </span>
  )
}

function Unreachable() {
  const conn = useStore(connection)
  const now = useTick(1000)
  if (conn.state !== 'unreachable') return null
  return (
    <div class="banner" role="alert" data-testid="unreachable">
      <strong>The daemon does not answer</strong> (for {duration(now - conn.since)}). It may have stopped or be
      restarting: start it again with <code>lateral daemon</code> and this page picks up where it was, without a reload.
      Trying again every few seconds…
    </div>
  )
}

function SignIn({ error, detail }: { error: unknown; detail: string | undefined }) {
  const problem = error === undefined ? undefined : describe(error)
  return (
    <main class="signin" data-testid="signin">
      <h1>
        <span class="logo">◇</span> Lateral
      </h1>
      <p>This page controls a Lateral node, so it needs the node's permission.</p>
      {problem === undefined ? null : (
        <div class="error" role="alert">
          <strong>{problem.title}.</strong> {problem.detail}
        </div>
      )}
      {detail === undefined || problem !== undefined ? null : <p class="muted">{detail}</p>}
      <p>
        On the machine where the node runs, open the dashboard signed in with:
        <pre>lateral ui</pre>
        (from a Lateral checkout: <code>npm run ui</code>). It opens a link that works once and expires in two minutes;
        the page keeps the node's token in this browser afterwards.
      </p>
    </main>
  )
}

async function boot(): Promise<void> {
  let loginError: unknown
  const match = /^#login=([A-Za-z0-9_-]+)$/.exec(location.hash)
  if (match?.[1] !== undefined) {
    // Forget the code at once: it must not stay in the address bar or the history.
    history.replaceState(null, '', `${location.pathname}#node`)
    try {
      await redeemLogin(match[1])
    } catch (err) {
      loginError = err
    }
  }
  startEvents()
  const root = document.getElementById('app')
  if (root !== null) render(<App loginError={loginError} />, root)
}

void boot()
