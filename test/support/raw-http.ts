/**
 * A raw-socket HTTP/1.1 client for tests whose requests must reach the server byte for byte:
 * hostile Cookie headers, repeated header lines, bytes that `fetch` would refuse or normalise.
 */
import { createConnection } from 'node:net';

export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: string;
}
export interface HttpResponse {
  readonly status: number;
  /** By lower-case name, each line's value. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly setCookies: readonly string[];
  readonly json: Readonly<Record<string, unknown>> | undefined;
}

/** One request over its own connection, its head sent byte for byte (latin1). */
export function sendRawRequest(url: string, request: RawRequest): Promise<HttpResponse> {
  const { hostname, port } = new URL(url);
  const head = [
    `${request.method} ${request.path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Connection: close',
  ];
  for (const [name, value] of request.headers) head.push(`${name}: ${value}`);
  if (request.body !== undefined)
    head.push(`Content-Length: ${Buffer.byteLength(request.body, 'latin1')}`);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server that refuses an oversized head may reset the connection after answering.
    socket.on('error', (error) => chunks.length === 0 && reject(error));
    socket.on('close', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    socket.end(Buffer.from(`${head.join('\r\n')}\r\n\r\n${request.body ?? ''}`, 'latin1'));
  });
}

/** Splits one Set-Cookie line into its name, value and attributes (keys in lower case). */
export function parseSetCookie(header: string): {
  name: string;
  value: string;
  attributes: Map<string, string>;
} {
  const [pair = '', ...rest] = header.split(';');
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const [key = '', ...value] = part.split('=');
    attributes.set(key.trim().toLowerCase(), value.join('=').trim());
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes };
}

function parseResponse(raw: Buffer): HttpResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1)
    throw new Error(`No HTTP response head: ${JSON.stringify(raw.toString('latin1', 0, 200))}`);
  const [statusLine = '', ...lines] = raw.toString('latin1', 0, end).split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let body = raw.subarray(end + 4);
  if (headers.get('transfer-encoding')?.[0]?.toLowerCase() === 'chunked') body = dechunk(body);
  const json =
    headers.get('content-type')?.[0]?.startsWith('application/json') && body.length > 0
      ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>)
      : undefined;
  const status = Number(statusLine.split(' ')[1]);
  return { status, headers, setCookies: headers.get('set-cookie') ?? [], json };
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0; ;) {
    const lineEnd = body.indexOf('\r\n', offset);
    const size = Number.parseInt(body.toString('latin1', offset, lineEnd), 16);
    if (!(size > 0)) return Buffer.concat(parts);
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}
