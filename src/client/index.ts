/** The client's entry (`import … from "edgebeat/client"`): subscribe and the wire protocol's types. */
export { type BackoffPolicy, fullJitterDelay } from "./backoff";
export * from "./positions";
export * from "./protocol";
export type * from "./schedule";
export {
  type ConnectionState,
  DEFAULT_BACKOFF,
  FALLBACK_AFTER,
  type SubscribeHandlers,
  type SubscribeOptions,
  type Subscription,
  subscribe,
  type TransportName,
} from "./subscribe";
