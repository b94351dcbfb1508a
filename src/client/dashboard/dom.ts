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
