/** A service's dashboard view, declared in the service's folder (`src/<service>/web/`). */
import type { FunctionComponent } from 'preact'

export interface ServiceView {
  /** Its place in the address (`#files`) and its `data-nav` name. */
  id: string
  title: string
  View: FunctionComponent<{ self: string | undefined }>
  /** Shown above every view when it has something urgent to say (e.g. a recovery to veto). */
  Banner?: FunctionComponent
}
