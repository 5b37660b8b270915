/**
 * The last messages of each topic joined through the API, so a page opened (or reloaded)
 * later shows the conversation so far. In memory only, bounded per topic.
 */
import { bodyView } from '../../daemon/views.ts'
import type { LateralNode } from '../../node/node.ts'
import type { ReceivedTopicMessage } from '../index.ts'
import type { TopicMessageView } from './schemas.ts'

type LoggedMessage = TopicMessageView

export class TopicLog {
  readonly #perTopic: number
  readonly #topics = new Map<string, LoggedMessage[]>()
  readonly #node: LateralNode
  readonly #listener = (evt: CustomEvent<ReceivedTopicMessage>) => {
    const { body, ...rest } = evt.detail
    this.record({ ...rest, ...bodyView(rest.type, body) })
  }

  constructor(node: LateralNode, perTopic = 200) {
    this.#node = node
    this.#perTopic = perTopic
    node.messaging.addEventListener('topic:message', this.#listener)
  }

  record(message: LoggedMessage): void {
    const list = this.#topics.get(message.topic) ?? []
    if (list.some((m) => m.id === message.id)) return
    list.push(message)
    if (list.length > this.#perTopic) list.splice(0, list.length - this.#perTopic)
    this.#topics.set(message.topic, list)
  }

  recent(topic: string): LoggedMessage[] {
    return [...(this.#topics.get(topic) ?? [])]
  }

  forget(topic: string): void {
    this.#topics.delete(topic)
  }

  close(): void {
    this.#node.messaging.removeEventListener('topic:message', this.#listener)
  }
}
