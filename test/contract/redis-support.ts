import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { Cluster, Redis } from 'ioredis';

/**
 * A TCP relay to a Redis server that delays every chunk from the client by `latencyMs` and
 * records when it arrived, for counting round trips (the outage tests use the shared
 * `OutageProxy`). Chunks sent together arrive together; a chunk that had to wait for a reply
 * arrives at least `latencyMs` later. It also knows the local ports of its own connections to
 * Redis, which is how `MONITOR` names their commands.
 */
export class LatencyProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #upstreamPorts = new Set<number>();
  readonly #sendTimes: number[] = [];
  readonly #targetPort: number;
  #port = 0;

  constructor(targetPort: number, latencyMs: number) {
    this.#targetPort = targetPort;
    this.#server = createServer((client) => {
      const upstream = connect({ host: '127.0.0.1', port: targetPort });
      upstream.once('connect', () => {
        if (upstream.localPort !== undefined) this.#upstreamPorts.add(upstream.localPort);
      });
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      upstream.pipe(client);
      client.on('data', (chunk: Buffer) => {
        this.#sendTimes.push(performance.now());
        setTimeout(() => {
          if (!upstream.destroyed) upstream.write(chunk);
        }, latencyMs);
      });
      client.on('end', () => upstream.end());
    });
  }

  get port(): number {
    return this.#port;
  }

  /** The port of the Redis server behind the relay. */
  get targetPort(): number {
    return this.#targetPort;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.#port}`;
  }

  /** Local ports of the relay's connections to Redis, as `MONITOR` reports their clients. */
  get upstreamPorts(): ReadonlySet<number> {
    return this.#upstreamPorts;
  }

  /** Arrival times (performance.now()) of client chunks since the last call, and clears them. */
  takeSendTimes(): number[] {
    return this.#sendTimes.splice(0);
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: '127.0.0.1', port: 0 }, () => {
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

/** A key prefix of its own for one test: `strongroom-test:<random>:`. */
export function freshPrefix(): string {
  return `strongroom-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` with SCAN + DEL (on every master of a cluster). */
export async function deleteKeys(client: Redis | Cluster, prefix: string): Promise<number> {
  const nodes = 'nodes' in client ? client.nodes('master') : [client];
  let deleted = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
      cursor = next;
      // One DEL per key: in a cluster, keys of one batch live in different slots.
      for (const key of keys) deleted += await node.del(key);
    } while (cursor !== '0');
  }
  return deleted;
}

/** One script call the {@link ScriptGate} holds: its keys and arguments after the key count. */
export interface HeldCall {
  readonly keys: readonly string[];
  readonly args: readonly unknown[];
}

/**
 * Wraps an ioredis client so that a test can hold chosen EVALSHA calls of the store (by their
 * keys and arguments) until it releases them: a deterministic way to force one interleaving of
 * two operations, which parallel calls only hit by chance.
 */
export class ScriptGate<C extends Redis | Cluster> {
  readonly client: C;
  readonly #rules: {
    readonly matches: (call: HeldCall) => boolean;
    readonly reached: () => void;
    readonly opened: Promise<void>;
  }[] = [];

  constructor(target: C) {
    const evalsha = target.evalsha.bind(target) as (...args: unknown[]) => Promise<unknown>;
    const hold = async (...args: unknown[]): Promise<unknown> => {
      const count = Number(args[1]);
      const call = { keys: args.slice(2, 2 + count) as string[], args: args.slice(2 + count) };
      const index = this.#rules.findIndex((rule) => rule.matches(call));
      if (index >= 0) {
        const [rule] = this.#rules.splice(index, 1);
        rule!.reached();
        await rule!.opened;
      }
      return evalsha(...args);
    };
    this.client = new Proxy(target, {
      get(object, property) {
        if (property === 'evalsha') return hold;
        const value: unknown = Reflect.get(object, property, object);
        return typeof value === 'function' ? (value as () => unknown).bind(object) : value;
      },
    });
  }

  /**
   * Holds the next call that `matches`. Returns when it was reached (resolves once the store
   * made the call) and a function that lets it through.
   */
  hold(matches: (call: HeldCall) => boolean): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const opened = new Promise<void>((resolve) => (release = resolve));
    this.#rules.push({ matches, reached, opened });
    return { reached: reachedPromise, release };
  }
}
