/**
 * Subscriptions on `sse` or `longpoll` to one server (origin and mount path) with one token share
 * one multiplexed connection, `GET /events?topics=` or `GET /history?topics=`, instead of one each:
 * a browser allows only 6 connections per origin over HTTP/1.1. A topic joining or leaving reopens
 * the shared connection with every member's position (joins in the same tick make one reopen); at
 * most MAX_TOPICS_PER_CONNECTION topics share one, and a topic subscribed twice takes a second.
 * Each subscription keeps its own state machine: the hub only carries its frames, tells it when the
 * connection opened or ended, and gives every member the same retry time so they come back as one.
 * A server without the multiplexed routes (older, or another app) gets one connection per topic.
 */
import { fullJitterDelay } from "./backoff";
import { type Link, type Member, openMultiplexed } from "./multiplexed";
import { MAX_TOPICS_PER_CONNECTION } from "./positions";
import { type Connection, openTransport, type Resume, type TransportEvents, type TransportOptions } from "./transports";

type SharedName = "sse" | "longpoll";

/** A subscription in a hub: its own topic URL, and its own connection once the server turned out to have no multiplexed routes. */
interface SharedMember extends Member {
  url: string;
  own: Connection | null;
}

/** The hubs of one server, token and transport, and whether it turned out to have no multiplexed routes. */
interface Group {
  legacy: boolean;
  hubs: Hub[];
}

/** Groups by the fetch they use (tests and hosts inject their own), then by server, token and transport. */
const groups = new WeakMap<typeof fetch, Map<string, Group>>();

/** A topic URL's server (`http(s)://host/prefix`) and topic name, or null for a URL that is not `…/topics/<name>`. */
function parseTopicUrl(url: string): { base: string; topic: string } | null {
  const parsed = new URL(url);
  const match = /^(.*)\/topics\/([^/]+)$/.exec(parsed.pathname);
  if (match === null) return null;
  return { base: `${parsed.origin}${match[1]}`, topic: decodeURIComponent(match[2] as string) };
}

/** Joins the shared connection of its server for `name`; the connection returned leaves it again. */
export function openShared(
  name: SharedName | "websocket",
  options: TransportOptions,
  resume: () => Resume,
  events: TransportEvents,
): Connection {
  const target = name === "websocket" ? null : parseTopicUrl(options.url);
  if (name === "websocket" || target === null) return openTransport(name, options, resume, events);
  const byKey = groups.get(options.fetch) ?? new Map<string, Group>();
  groups.set(options.fetch, byKey);
  const key = `${name} ${target.base} ${options.token ?? ""}`;
  const group = byKey.get(key) ?? { legacy: false, hubs: [] };
  byKey.set(key, group);
  if (group.legacy) return openTransport(name, options, resume, events);
  const member: SharedMember = { topic: target.topic, url: options.url, resume, events, own: null };
  let hub = group.hubs.find((candidate) => candidate.fits(member.topic));
  if (hub === undefined) {
    hub = new Hub(name, target.base, options, group);
    group.hubs.push(hub);
  }
  hub.join(member);
  const joined = hub;
  return { close: (reason) => (member.own === null ? joined.leave(member) : member.own.close(reason)) };
}

class Hub {
  readonly #members = new Set<SharedMember>();
  #link: Link | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Failed or ended connections in a row, for the backoff of the next retry time. */
  #retries = 0;

  constructor(
    private readonly name: SharedName,
    private readonly base: string,
    private readonly options: TransportOptions,
    private readonly group: Group,
  ) {}

  /** Whether `topic` may join: it is not here yet, and there is room. */
  fits(topic: string): boolean {
    return this.#members.size < MAX_TOPICS_PER_CONNECTION && ![...this.#members].some((member) => member.topic === topic);
  }

  join(member: SharedMember): void {
    this.#members.add(member);
    this.#schedule();
  }

  leave(member: SharedMember): void {
    if (this.#members.delete(member)) this.#schedule();
  }

  /** Reopens once the current tick is over, so the joins and leaves of one tick make one reconnect. */
  #schedule(): void {
    this.#timer ??= setTimeout(() => this.#reopen(), 0);
  }

  #reopen(): void {
    this.#timer = undefined;
    const previous = this.#link;
    this.#link = null;
    previous?.close("the shared connection reopens"); // its end is not its members' end: they move to the new one
    if (this.group.legacy) {
      this.#ownConnections([...this.#members]);
      return;
    }
    if (this.#members.size === 0) return;
    const members = [...this.#members];
    const link: Link = openMultiplexed(this.name, this.base, this.options, members, {
      isCurrent: (member) => this.#link === link && this.#members.has(member as SharedMember),
      opened: () => {
        if (this.#link !== link) return;
        this.#retries = 0;
        for (const member of members) if (this.#members.has(member)) member.events.open();
      },
      ended: (reason, legacy) => this.#ended(link, reason, legacy),
    });
    this.#link = link;
  }

  /** The connection ended (not by a reopen): its members end too, each to reconnect at the same time, or go their own way. */
  #ended(link: Link, reason: string, legacy: boolean): void {
    if (this.#link !== link) return;
    this.#link = null;
    const members = [...this.#members].filter((member) => link.members.includes(member));
    for (const member of members) this.#members.delete(member);
    if (legacy) {
      this.group.legacy = true;
      this.#ownConnections(members);
      return;
    }
    const retryAt = Date.now() + fullJitterDelay(++this.#retries, this.options.backoff, this.options.random);
    for (const member of members) member.events.end(reason, retryAt);
  }

  /** The server has no multiplexed routes: each member gets its own per-topic connection, as before them. */
  #ownConnections(members: SharedMember[]): void {
    for (const member of members) {
      this.#members.delete(member);
      member.own = openTransport(this.name, { ...this.options, url: member.url }, member.resume, member.events);
    }
  }
}
