/** Debian's Chromium for the browser tests (test tools cannot download their own browsers here). */

export const CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Headless as root on a closed network: without the background-networking flags Chromium opens
 * connections this machine refuses, many at a time, and looks up Google's hosts at every start.
 */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
