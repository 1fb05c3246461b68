import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP relay to a shared local server (PostgreSQL, Redis). `stop` cuts every live connection
 * and refuses new ones — what a client sees when its server goes down — without stopping the
 * server other test files use; `start` accepts connections again on the same port.
 */
export class OutageProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  /** `observe` is called once per connection and gets every chunk the client sends. */
  constructor(upstreamPort: number, observe?: () => (chunk: Buffer) => void) {
    this.#server = createServer((client) => {
      if (observe !== undefined) client.on('data', observe());
      const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
  }

  /** The local port clients connect to (fixed after the first start). */
  get port(): number {
    return this.#port;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: '127.0.0.1', port: this.#port }, () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    return closed;
  }
}
