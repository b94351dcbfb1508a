/**
 * `useTopic` (`import { useTopic } from "edgebeat/react"`): a topic's latest value, seq, job status
 * and connection state as React state, on top of `subscribe`, so it resumes and never loses a value.
 */
import { useEffect, useRef, useState } from "react";
import type { Json, MetricFrame, TopicState } from "./protocol";
import { type ConnectionState, type SubscribeOptions, subscribe, type TransportName } from "./subscribe";

export interface UseTopicOptions extends SubscribeOptions {
  /** `false` holds no connection (and keeps what was shown); default true. */
  enabled?: boolean;
}

export interface TopicView<V extends Json = Json> {
  /** The latest metric's value, or null before the first (and right after a `reset`). */
  value: V | null;
  /** The latest metric frame: seq, ts, runId, scheduledTime, nextExpectedAt. */
  latest: MetricFrame | null;
  seq: number | null;
  /** The feeding job's health from the last `status` frame, or null before one arrives. */
  status: TopicState | null;
  statusDetail: string | null;
  /** `connecting`, `live`, `reconnecting` or `closed` (a refusal such as 401/403/404 is final). */
  state: ConnectionState;
  stateDetail: string | null;
  /** The transport in use: `websocket`, or `sse` / `longpoll` on a network that blocks WebSockets. */
  transport: TransportName;
}

const INITIAL: TopicView = {
  value: null,
  latest: null,
  seq: null,
  status: null,
  statusDetail: null,
  state: "connecting",
  stateDetail: null,
  transport: "websocket",
};

/**
 * Subscribes to the topic at `url` while the component is mounted; a new `url` or `token`
 * resubscribes, unmount closes the socket. Other options are read when the subscription starts.
 */
export function useTopic<V extends Json = Json>(url: string, options: UseTopicOptions = {}): TopicView<V> {
  const [view, setView] = useState<TopicView<V>>(INITIAL as TopicView<V>);
  const optionsRef = useRef(options);
  optionsRef.current = options;
  const enabled = options.enabled ?? true;

  // biome-ignore lint/correctness/useExhaustiveDependencies: other options are read when the subscription starts (documented); only url, token and enabled resubscribe.
  useEffect(() => {
    if (!enabled) return;
    const { enabled: _enabled, ...subscribeOptions } = optionsRef.current;
    const subscription = subscribe(
      url,
      {
        onMetric: (frame) => setView((prev) => ({ ...prev, value: frame.value as V, latest: frame, seq: frame.seq })),
        onReset: () => setView((prev) => ({ ...prev, value: null, latest: null, seq: null })),
        onStatus: (frame) => setView((prev) => ({ ...prev, status: frame.state, statusDetail: frame.detail })),
        onState: (state, detail, transport) => setView((prev) => ({ ...prev, state, stateDetail: detail ?? null, transport })),
      },
      subscribeOptions,
    );
    return () => subscription.close();
  }, [url, options.token, enabled]);

  return view;
}
