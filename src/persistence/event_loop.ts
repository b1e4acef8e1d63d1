/**
 * Handing the event loop back during long persistence work (rewrites,
 * background saves, loading at start-up), so clients are served meanwhile.
 *
 * @module
 */

/**
 * Lets timers and I/O run. setTimeout, not setImmediate: Deno runs
 * immediates before polling I/O, so a chain of them starves clients.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * How many bytes a start-up load reads between two turns of the event loop
 * (Redis's default `loading-process-events-interval-bytes`), so clients that
 * connect meanwhile get their -LOADING replies.
 */
export const LOADING_YIELD_BYTES = 2 * 1024 * 1024;
