import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { track } from './children.js';

export interface Build {
  /** Folder with the compiled tree (src/…, bench/…), a package.json and a node_modules link. */
  root: string;
  serveScript: string;
  bareScript: string;
  /** Bare Fastify + the outbox's group-committed insert: the floor of the notify scenario. */
  outboxScript: string;
  clientCostScript: string;
  /** The seed-style server (Graph call inside the request, no outbox) of the `seed` scenario. */
  seedScript: string;
  ms: number;
  /** tsc diagnostics when it reported type errors but still emitted JavaScript (src/ mid-edit). */
  typeErrors: string | null;
  dispose(): void;
}

/**
 * Compiles src/ and the bench's child scripts with tsc into a temporary folder, as `npm run build` does
 * for `npm start`, so the servers run on plain `node` without tsx's loader thread (which would add
 * to RSS and start-up). Nothing is written inside the repository.
 */
export async function buildServers(repoRoot: string): Promise<Build> {
  const started = performance.now();
  const root = mkdtempSync(path.join(tmpdir(), 'khk-bench-build-'));
  const outDir = path.join(root, 'out');
  mkdirSync(outDir);
  // Bare imports resolve by walking up from out/: link the repository's node_modules there.
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(outDir, 'node_modules'), 'dir');
  writeFileSync(path.join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  const tsconfig = path.join(root, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(repoRoot, 'tsconfig.json'),
      compilerOptions: { noEmit: false, outDir, rootDir: repoRoot, sourceMap: false, incremental: false },
      files: ['serve.ts', 'bare-serve.ts', 'outbox-serve.ts', 'client-cost.ts', 'seed-serve.ts'].map((file) =>
        path.join(repoRoot, 'bench', file),
      ),
      include: [],
    }),
  );
  const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
  const output: string[] = [];
  const child = track(spawn(process.execPath, [tsc, '-p', tsconfig], { stdio: ['ignore', 'pipe', 'pipe'] }));
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  const dispose = (): void => rmSync(root, { recursive: true, force: true });
  const scripts = ['serve', 'bare-serve', 'outbox-serve', 'client-cost', 'seed-serve'].map((name) =>
    path.join(outDir, `bench/${name}.js`),
  );
  // Exit 2 = type errors, JavaScript emitted anyway (as `tsc` does by default); the run goes on and says so.
  const hasOutput = scripts.every((file) => existsSync(file));
  if (code !== 0 && !(code === 2 && hasOutput)) {
    dispose();
    throw new Error(`tsc build of the bench servers failed (exit ${code}):\n${output.join('')}`);
  }
  return {
    root: outDir,
    serveScript: path.join(outDir, 'bench/serve.js'),
    bareScript: path.join(outDir, 'bench/bare-serve.js'),
    outboxScript: path.join(outDir, 'bench/outbox-serve.js'),
    clientCostScript: path.join(outDir, 'bench/client-cost.js'),
    seedScript: path.join(outDir, 'bench/seed-serve.js'),
    ms: performance.now() - started,
    typeErrors: code === 0 ? null : output.join('').trim(),
    dispose,
  };
}
