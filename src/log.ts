/**
 * Logger writing Redis's log line format to stderr:
 * `pid:M 25 Nov 2026 14:36:28.123 * message`, with Redis's level marks
 * (`.` debug, `-` verbose, `*` notice, `#` warning).
 *
 * @module
 */

import type { LogLevel } from "./config.ts";

const LEVELS: Record<LogLevel, number> = {
  debug: 0,
  verbose: 1,
  notice: 2,
  warning: 3,
  nothing: 4,
};
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export class Logger {
  constructor(
    public level: LogLevel = "notice",
    readonly sink: (line: string) => void = writeStderr,
  ) {}

  debug(message: string): void {
    this.#log(0, ".", message);
  }

  verbose(message: string): void {
    this.#log(1, "-", message);
  }

  notice(message: string): void {
    this.#log(2, "*", message);
  }

  warning(message: string): void {
    this.#log(3, "#", message);
  }

  #log(level: number, mark: string, message: string): void {
    if (level < LEVELS[this.level]) return;
    const now = new Date();
    const two = (n: number) => String(n).padStart(2, "0");
    const stamp = `${two(now.getDate())} ${MONTHS[now.getMonth()]} ${now.getFullYear()} ${
      two(now.getHours())
    }:${two(now.getMinutes())}:${two(now.getSeconds())}.${
      String(now.getMilliseconds()).padStart(3, "0")
    }`;
    this.sink(`${Deno.pid}:M ${stamp} ${mark} ${message}\n`);
  }
}

function writeStderr(line: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(line));
}
