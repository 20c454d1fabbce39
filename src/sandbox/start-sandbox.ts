import { buildSandbox, type Sandbox, type SandboxOptions } from './build-sandbox.js';

export interface StartSandboxOptions extends SandboxOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface RunningSandbox extends Sandbox {
  /** Base URL to use as the Graph API URL, e.g. `http://127.0.0.1:3100`. */
  url: string;
  close(): Promise<void>;
}

/** Builds the sandbox and listens; for `npm run sandbox`, in-process service use and tests. */
export async function startSandbox(options: StartSandboxOptions): Promise<RunningSandbox> {
  const { port = 0, host = '127.0.0.1', ...sandboxOptions } = options;
  const sandbox = buildSandbox(sandboxOptions);
  await sandbox.app.listen({ port, host });
  const address = sandbox.app.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { ...sandbox, url: `http://${urlHost}:${boundPort}`, close: () => sandbox.app.close() };
}
