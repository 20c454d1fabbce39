/**
 * One memory-reducing garbage collection once the server is up. Starting (migrations, compiling every
 * route's schemas and serializers, the OpenAPI document, the first admin's password hash) leaves garbage
 * and a young generation grown to its maximum (2 × 16 MB), which V8 keeps committed while the process
 * idles. An ordinary collection (`gc()`) does not give it back; the heap profiler's "collect garbage"
 * (what DevTools' trash-can button does) runs V8's low-memory collection, which also shrinks the young
 * generation: an idle server drops from ~140 MB to ~105 MB of RSS (BENCHMARKS.md, scenario e; ADR 0012). Under
 * load the young generation grows again as V8 sees fit, so request throughput is unchanged.
 *
 * The session is in-process (node:inspector's Session opens no port). Resolves with whether the
 * collection ran; never rejects (a Node.js built without the inspector simply skips it).
 */
export async function releaseStartupMemory(): Promise<boolean> {
  try {
    const { Session } = await import('node:inspector');
    const session = new Session();
    session.connect();
    return await new Promise<boolean>((resolve) => {
      session.post('HeapProfiler.collectGarbage', (error) => {
        // Disconnecting inside the callback leaves the process unable to exit; do it on the next turn.
        setImmediate(() => {
          session.disconnect();
          resolve(error === null);
        });
      });
    });
  } catch {
    return false;
  }
}
