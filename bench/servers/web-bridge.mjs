// A small node:http ⇄ Fetch API bridge, the way a plain Node app would host a handler written
// for Request/Response (Hono, Next.js route handlers, `strongroom/web`).
import { createServer } from 'node:http';

/** Serves `handler(request: Request): Promise<Response>` over node:http. */
export function createWebServer(handler) {
  return createServer((req, res) => {
    bridge(req, res, handler).catch((error) => {
      console.error(error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
}

async function bridge(req, res, handler) {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url}`, {
    method: req.method,
    headers,
    body: hasBody ? await readBody(req) : undefined,
  });
  const response = await handler(request);
  const out = {};
  for (const [name, value] of response.headers) if (name !== 'set-cookie') out[name] = value;
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  const body = Buffer.from(await response.arrayBuffer());
  out['content-length'] = body.length;
  res.writeHead(response.status, out);
  res.end(body);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return chunks.length === 0 ? null : Buffer.concat(chunks);
}
