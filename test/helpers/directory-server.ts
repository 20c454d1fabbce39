import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stand-in directory does with the next requests; tests switch it with `behave`. */
export type DirectoryBehaviour =
  | { kind: 'answer'; entries: unknown[] }
  /** Answers `entries` only after `delayMs` (longer than the app's timeout: the answer must be ignored). */
  | { kind: 'slow'; delayMs: number; entries: unknown[] }
  | { kind: 'status'; status: number }
  /** 200 with a body that is not JSON. */
  | { kind: 'garbage' };

/** A small local HTTP server playing the external provider directory (`PROVIDER_DIRECTORY_URL`). */
export interface DirectoryServer {
  /** Base URL to put in PROVIDER_DIRECTORY_URL. */
  url: string;
  /** Every request received, as full URLs (query included). */
  requests: URL[];
  behave(behaviour: DirectoryBehaviour): void;
  close(): Promise<void>;
}

export async function startDirectoryServer(): Promise<DirectoryServer> {
  const requests: URL[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let behaviour: DirectoryBehaviour = { kind: 'answer', entries: [] };

  const send = (res: ServerResponse, status: number, body: string): void => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(new URL(req.url ?? '/', 'http://directory.test'));
    const current = behaviour;
    switch (current.kind) {
      case 'answer':
        return send(res, 200, JSON.stringify(current.entries));
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send(res, 200, JSON.stringify(current.entries));
        }, current.delayMs);
        timers.add(timer);
        return;
      }
      case 'status':
        return send(res, current.status, '{"error":"directory is down"}');
      case 'garbage':
        return send(res, 200, '<html><body>Service temporarily unavailable</body>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/providers`,
    requests,
    behave(next) {
      behaviour = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
