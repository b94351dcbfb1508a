/**
 * The machine's ceiling for `bench/fanout.mjs`: a plain Node `ws` broadcaster in its own process
 * (started with `fork`), speaking just enough of edgebeat's protocol for the same load generator
 * to measure it the same way.
 *
 * - `GET /health` → 200; `GET /stats` → how many clients each listener holds.
 * - WebSocket upgrade on `/topics/<topic>` → a `hello` frame, as edgebeat's first frame.
 * - `POST /topics/<topic>` with `Authorization: Bearer <token>` and edgebeat's body
 *   (`{"value": …, "id"?: …}`) → seq + 1, ONE metric frame of edgebeat's exact shape
 *   (`{"type":"metric","topic","seq","value","ts","runId"}`) serialized once into one Buffer and
 *   sent to every open client, then `202 {"topic","seq","duplicate":false}`, as edgebeat answers
 *   after its broadcast. Nothing is stored: that is the point of a ceiling.
 *
 * Two listeners: `plain` (ws's defaults: permessage-deflate off, what a plain broadcaster runs) and
 * `deflate` (permessage-deflate accepted when the client offers it, threshold 0 so every frame is
 * compressed per socket, as workerd does), to tell the cost of compression from the rest.
 *
 * Usage (from the bench): `fork("bench/lib/ceiling.mjs", [token, deadlineMs])`; it sends
 * `{ ready: true, ports: { plain, deflate } }` over IPC, and exits when the parent goes away or
 * after `deadlineMs`.
 */
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

const TOKEN = process.argv[2] ?? "bench-token";
const DEADLINE_MS = Number(process.argv[3] ?? 600_000);
const MAX_BODY = 64 * 1024;

// Bounded in time whatever happens to the parent.
setTimeout(() => process.exit(3), DEADLINE_MS);
process.on("disconnect", () => process.exit(0));

/**
 * @param {boolean} deflate
 * @returns {Promise<{ port: number, clients: () => number }>}
 */
function broadcaster(deflate) {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: deflate ? { threshold: 0 } : false,
  });
  /** @type {Map<string, number>} */
  const seqs = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method === "GET" && url.pathname === "/health") return json(res, 200, { ok: true });
    if (req.method === "GET" && url.pathname === "/stats") return json(res, 200, { clients: wss.clients.size });
    const topic = /^\/topics\/([a-z0-9][a-z0-9._-]{0,63})$/.exec(url.pathname)?.[1];
    if (req.method !== "POST" || topic === undefined) return json(res, 404, { error: { code: "not_found" } });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, { error: { code: "token_invalid" } });
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > MAX_BODY) return json(res, 413, { error: { code: "payload_too_large" } });
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return json(res, 400, { error: { code: "bad_json" } });
      }
      const seq = (seqs.get(topic) ?? 0) + 1;
      seqs.set(topic, seq);
      const frame = { type: "metric", topic, seq, value: body.value, ts: Date.now(), runId: `post:${body.id ?? seq}` };
      // Serialized once, one Buffer for every client (as edgebeat sends one string to every socket).
      const data = Buffer.from(JSON.stringify(frame));
      for (const ws of wss.clients) {
        if (ws.readyState === ws.OPEN) ws.send(data, { binary: false });
      }
      json(res, 202, { topic, seq, duplicate: false });
    });
  });
  server.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const topic = /^\/topics\/([a-z0-9][a-z0-9._-]{0,63})$/.exec(url.pathname)?.[1];
    if (topic === undefined) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      wss.emit("connection", ws, req);
      ws.on("error", () => ws.terminate());
      const hello = { type: "hello", topic, seq: seqs.get(topic) ?? 0, epoch: "ceiling", serverTime: Date.now() };
      ws.send(JSON.stringify(hello));
    });
  });
  // As many pending connections as the kernel allows: batches of 100 arrive at once.
  return new Promise((resolve) => {
    server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, () => {
      const address = server.address();
      resolve({ port: typeof address === "object" && address !== null ? address.port : 0, clients: () => wss.clients.size });
    });
  });
}

/**
 * @param {import("node:http").ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 */
function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

const [plain, deflate] = await Promise.all([broadcaster(false), broadcaster(true)]);
process.send?.({ ready: true, ports: { plain: plain.port, deflate: deflate.port } });
