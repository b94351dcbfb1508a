/**
 * What the client asks of the network when a connection fails: whether the browser is online (and
 * when it comes back), and whether the topic's URL answers over plain HTTP, which tells a refusal
 * (final), a blocked transport (fall back) and an outage (retry) apart.
 */
/** Whether the network is up, and a way to hear when it comes back; browsers use `navigator.onLine`. */
export interface Network {
  isOnline(): boolean;
  onChange(listener: () => void): () => void;
}

/** Upgrade answers that retrying cannot fix. */
const FATAL_STATUSES = new Set([400, 401, 403, 404]);

export function browserNetwork(): Network {
  const target = globalThis as {
    navigator?: { onLine?: boolean };
    addEventListener?: (type: string, listener: () => void) => void;
  } & {
    removeEventListener?: (type: string, listener: () => void) => void;
  };
  return {
    isOnline: () => target.navigator?.onLine !== false,
    onChange(listener) {
      target.addEventListener?.("online", listener);
      return () => target.removeEventListener?.("online", listener);
    },
  };
}

/**
 * Asks the topic's http(s) URL: a refusal retrying cannot fix (its status, code and message),
 * `reachable` (it answers 200, so a failed transport is what fails) or `unreachable` (a network problem).
 */
export async function probeTopic(
  doFetch: typeof fetch,
  url: string,
  token: string | undefined,
): Promise<string | "reachable" | "unreachable"> {
  try {
    const probe = new URL(url);
    if (token !== undefined) probe.searchParams.set("token", token);
    const response = await doFetch(probe.toString());
    if (!FATAL_STATUSES.has(response.status)) return response.ok ? "reachable" : "unreachable";
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    return `${response.status} ${body?.error?.code ?? ""}: ${body?.error?.message ?? "refused"}`;
  } catch {
    return "unreachable";
  }
}
