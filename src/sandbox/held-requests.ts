import type { Socket } from 'node:net';

/**
 * Requests the sandbox keeps open on purpose (`hang`, `slow`). Closing the sandbox releases them:
 * waits end early and held sockets are destroyed, so `app.close()` never waits on a fault.
 */
export class HeldRequests {
  private readonly sockets = new Set<Socket>();
  private readonly waits = new Set<() => void>();

  /** Keeps the socket open until the client gives up or the sandbox closes. */
  hold(socket: Socket): void {
    if (socket.destroyed) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** Resolves true after `ms`, or false at once if the sandbox closes first. */
  wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const release = (): void => {
        clearTimeout(timer);
        this.waits.delete(release);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.waits.delete(release);
        resolve(true);
      }, ms);
      this.waits.add(release);
    });
  }

  get count(): number {
    return this.sockets.size + this.waits.size;
  }

  releaseAll(): void {
    for (const release of [...this.waits]) release();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}
