/**
 * MONITOR: clients that see every command the server runs, one status line
 * each, as Redis's replicationFeedMonitors writes them:
 *
 * ```
 * +1700000000.123456 [0 127.0.0.1:5555] "set" "k" "v"
 * ```
 *
 * Unix time with microseconds, the database and the client's address
 * (`lua` for commands a script runs), then every argument quoted as
 * sdscatrepr quotes it (`\"`, `\\`, `\n`, `\r`, `\t`, `\a`, `\b`, other
 * bytes outside printable ASCII as `\xhh`). The line is a `+` status line
 * whatever the monitor's protocol, as Redis sends it. Passwords are
 * redacted (`"(redacted)"`) before the line is built; see operations.ts.
 *
 * Nothing is built while no client monitors.
 *
 * @module
 */

import type { Client } from "../client.ts";
import type { KeyspaceEvents, ServerContext } from "../context.ts";

/** Quotes `text` (a binary string) as Redis's sdscatrepr does. */
export function representArgument(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    switch (code) {
      case 0x5c:
        out += "\\\\";
        break;
      case 0x22:
        out += '\\"';
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x07:
        out += "\\a";
        break;
      case 0x08:
        out += "\\b";
        break;
      default:
        out += code >= 0x20 && code <= 0x7e ? text[i] : `\\x${code.toString(16).padStart(2, "0")}`;
    }
  }
  return out + '"';
}

/** The time as MONITOR prints it: seconds and six digits of microseconds. */
function monitorTime(): string {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, "0")}`;
}

export class Monitors implements KeyspaceEvents {
  readonly #monitors = new Set<Client>();

  constructor(readonly server: ServerContext) {}

  /** Whether any client monitors (the hot-path check). */
  get active(): boolean {
    return this.#monitors.size !== 0;
  }

  has(client: Client): boolean {
    return this.#monitors.has(client);
  }

  /** MONITOR: `client` sees every command from now on. */
  add(client: Client): void {
    this.#monitors.add(client);
  }

  /**
   * Sends every monitor the line for `args`, run in database `dbIndex` by
   * the client at `origin` (its address, or `lua`).
   */
  feed(dbIndex: number, origin: string, args: readonly string[]): void {
    let line = `+${monitorTime()} [${dbIndex} ${origin}]`;
    for (const arg of args) line += " " + representArgument(arg);
    line += "\r\n";
    const bytes = new Uint8Array(line.length);
    for (let i = 0; i < line.length; i++) bytes[i] = line.charCodeAt(i);
    for (const monitor of this.#monitors) {
      if (monitor.closed) continue;
      monitor.reply.raw(bytes);
      this.server.markPending(monitor);
    }
  }

  clientClosed(client: Client): void {
    this.#monitors.delete(client);
  }

  clientReset(client: Client): void {
    this.#monitors.delete(client);
  }
}
