import net from 'node:net';

/**
 * A TCP proxy between the app and a real server (PostgreSQL) that a test can cut and restore, to play a
 * database outage without stopping the shared server other tests use.
 */
export interface TcpProxy {
  readonly port: number;
  /**
   * Destroys every open connection; until restore(), new ones are closed at once (`refuse`: a server
   * restarting) or accepted and never answered (`blackhole`: a network partition).
   */
  cut(mode?: 'refuse' | 'blackhole'): void;
  restore(): void;
  readonly isCut: boolean;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let cutMode: 'refuse' | 'blackhole' | null = null;
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (cutMode === 'refuse') {
      client.destroy();
      return;
    }
    if (cutMode === 'blackhole') return;
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('proxy has no port');
  return {
    port: address.port,
    get isCut() {
      return cutMode !== null;
    },
    cut(mode = 'refuse') {
      cutMode = mode;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      cutMode = null;
      // Connections held in the blackhole never reached the server: close them so clients retry.
      for (const socket of sockets) if (socket.listenerCount('data') === 0) socket.destroy();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
