/** Vite's `?raw` imports: the file's text as a string (used to read wrangler.toml in workerd). */
declare module "*?raw" {
  const text: string;
  export default text;
}
