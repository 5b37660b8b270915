/** Lateral's PubSub over libp2p gossipsub: raw topics, validators, scores. */
import type { GossipSub } from '@libp2p/gossipsub'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { PubSub, PubSubMessage, TopicValidator } from './types.ts'

const RESULT: Record<string, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  reject: TopicValidatorResult.Reject,
  ignore: TopicValidatorResult.Ignore,
}

export function toPubSubMessage(
  msg: { topic: string; data: Uint8Array; from?: PeerId },
  source: PeerId,
): PubSubMessage {
  return {
    topic: msg.topic,
    from: (msg.from ?? source).toString(),
    data: msg.data,
    propagationSource: source.toString(),
  }
}

/** The gossipsub instance has these, though its exported interface does not declare them. */
interface MeshAndScore {
  getMeshPeers(topic: string): string[]
  getScore(peerId: string): number
}

export function createPubSub(getGossipsub: () => GossipSub): PubSub {
  const scored = () => getGossipsub() as GossipSub & MeshAndScore
  return {
    subscribe: (topic) => getGossipsub().subscribe(topic),
    unsubscribe: (topic) => getGossipsub().unsubscribe(topic),
    topics: () => getGossipsub().getTopics(),
    async publish(topic, data) {
      const result = await getGossipsub().publish(topic, data)
      return { recipients: result.recipients.length }
    },
    setValidator(topic, validator: TopicValidator) {
      getGossipsub().topicValidators.set(topic, (source, msg) => {
        if (msg.type !== 'signed') return TopicValidatorResult.Reject
        return RESULT[validator(toPubSubMessage(msg, source))] ?? TopicValidatorResult.Reject
      })
    },
    removeValidator: (topic) => {
      getGossipsub().topicValidators.delete(topic)
    },
    subscribers: (topic) =>
      getGossipsub()
        .getSubscribers(topic)
        .map((p) => p.toString()),
    meshPeers: (topic) => scored().getMeshPeers(topic),
    score: (peerId) => scored().getScore(peerId),
  }
}
