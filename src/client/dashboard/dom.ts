/** A tiny element builder. Text always goes in as text nodes, never as HTML, so values cannot inject markup. */
import { formatDateTime } from "./format";

type Child = Node | string;

/** `<tag attrs…>children…</tag>`; `class` sets className, `hidden: ""` hides, the rest are attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") element.className = value;
    else element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

/** Sets `element`'s text only when it changed, so the once-a-second clock does not churn the DOM. */
export function setText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/** A `<time>` showing `text`, with the machine-readable instant and the full date as its tooltip. */
export function setTime(element: HTMLTimeElement, ts: number, text: string): void {
  setText(element, text);
  const iso = new Date(ts).toISOString();
  if (element.dateTime !== iso) {
    element.dateTime = iso;
    element.title = formatDateTime(ts);
  }
}

const BREAKS = {
  // A name's parts: "page.view", "burst-sharded", "job_name".
  name: /(?<=[._-])(?![._-])/,
  // A URL's scheme and path steps, never inside its host: "http://" + "127.0.0.1:8787/" + "health".
  url: /(?<=\/)(?!\/)/,
};

/**
 * `text` with a line-break opportunity (`<wbr>`) after each separator of its `kind`: a URL or a
 * name then wraps between its parts where it must, and never inside a word (no CSS on this page
 * breaks words: `overflow-wrap: break-word` only splits a part wider than its whole box).
 */
export function breakable(text: string, kind: keyof typeof BREAKS = "name"): Node[] {
  const nodes: Node[] = [];
  for (const part of text.split(BREAKS[kind])) {
    if (nodes.length > 0) nodes.push(document.createElement("wbr"));
    nodes.push(document.createTextNode(part));
  }
  return nodes;
}
