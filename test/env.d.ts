/** Vite's `?raw` imports: the file's text as a string (used to read wrangler.toml in workerd). */
declare module "*?raw" {
  const text: string;
  export default text;
}

/** Bindings only the workerd tests have (see vitest.config.ts). */
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}
