// A webhook receiver on loopback for Admit's tests: it verifies every delivery's signature with the
// npm standardwebhooks library on the raw body, independently of Admit's Python signing.
//   node webhook_receiver.mjs PORT      prints "listening" once it accepts requests
// Control (JSON): POST /_secrets ["whsec_…", …] (each verified on its own), POST /_mode "ok" |
// "503" | "hang" | "410" | "big" | "redirect <url>", POST /_now <unix seconds> (the receiver's
// clock for the timestamp tolerance: the tests drive Admit with a fixed clock), GET /_received
// (every delivery answered 2xx) and GET /_seen (every request).
import http from "node:http";
import { Webhook } from "standardwebhooks";

const port = parseInt(process.argv[2] ?? "0", 10);
let secrets = [];
let mode = "ok";
let offset = 0;
const realNow = Date.now;
Date.now = () => realNow() + offset;
const received = [];
const seen = [];

function control(req, res, raw) {
  const value = raw.length ? JSON.parse(raw.toString("utf8")) : null;
  if (req.url === "/_secrets") secrets = value;
  else if (req.url === "/_mode") mode = value;
  else if (req.url === "/_now") offset = value * 1000 - realNow();
  else if (req.url === "/_received") return json(res, received);
  else if (req.url === "/_seen") return json(res, seen);
  json(res, { ok: true });
}

function json(res, value) {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const raw = Buffer.concat(chunks);
    if (req.url.startsWith("/_")) return control(req, res, raw);
    const body = raw.toString("utf8");
    const verified = secrets.map((secret) => {
      try {
        new Webhook(secret).verify(body, req.headers);
        return true;
      } catch (error) {
        return String(error.message);
      }
    });
    const entry = {
      path: req.url,
      id: req.headers["webhook-id"] ?? null,
      timestamp: req.headers["webhook-timestamp"] ?? null,
      signature: req.headers["webhook-signature"] ?? null,
      host: req.headers["host"] ?? null,
      body,
      verified,
      mode,
    };
    seen.push(entry);
    if (mode === "hang") return; // never answers: the sender's timeout ends it
    if (mode === "503") return res.writeHead(503).end("down for maintenance");
    if (mode === "410") return res.writeHead(410).end("gone");
    if (mode.startsWith("redirect ")) return res.writeHead(302, { location: mode.slice(9) }).end();
    received.push(entry);
    if (mode === "big") return res.writeHead(200).end("x".repeat(100000));
    res.writeHead(200, { "content-type": "text/plain" }).end("thanks");
  });
});

server.listen(port, "127.0.0.1", () => console.log("listening"));
