/**
 * The ACL file (`aclfile`): its format, its error messages, and the file
 * access behind ACL LOAD and ACL SAVE.
 *
 * The format is ACL LIST's: one `user <name> <rules...>` line per user.
 * Reading follows acl.c's ACLLoadFromFile to the letter, because its error
 * text is what operators see: lines are trimmed of blanks, split on single
 * spaces (no quoting: `"` is an ordinary character here), every unknown
 * command of a line is reported but only the first other error, and the
 * messages name the file and the line. Parsing never changes the engine:
 * it builds a new set of users that the caller installs only when there
 * were no errors.
 *
 * One deliberate difference: Redis 7.0.15 crashes on a line where an
 * unclosed selector follows other rules; here that line reports
 * "Unmatched parenthesis in selector definition." like the cases Redis
 * survives.
 *
 * Writing goes to a temporary file renamed over the old one, so a crash
 * mid-save never leaves half a file.
 *
 * @module
 */

import { AclRuleError } from "./errors.ts";
import { mergeSelectorArguments } from "./rules.ts";
import { hasSpaces } from "./text.ts";
import type { AclUser } from "./user.ts";

/** The file operations ACL LOAD and SAVE need; tests substitute failures. */
export interface AclFileSystem {
  /** The file's content as a binary string; throws the system's error. */
  read(path: string): string;
  /** Creates or replaces a file with a binary string. */
  write(path: string, text: string): void;
  rename(from: string, to: string): void;
  remove(path: string): void;
}

/** The real file system, through Deno's synchronous calls (ACL LOAD/SAVE block, as in Redis). */
export const SYSTEM_FILES: AclFileSystem = {
  read(path) {
    try {
      return latin1(Deno.readFileSync(path));
    } catch (error) {
      // fopen() accepts a directory and reading it gives nothing.
      if (error instanceof Deno.errors.IsADirectory) return "";
      throw error;
    }
  },
  write(path, text) {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    Deno.writeFileSync(path, bytes, { mode: 0o644 });
  },
  rename(from, to) {
    Deno.renameSync(from, to);
  },
  remove(path) {
    Deno.removeSync(path);
  },
};

function latin1(bytes: Uint8Array): string {
  let text = "";
  const CHUNK = 8192;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    text += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return text;
}

/** An error's text as strerror() would print it ("No such file or directory"). */
export function systemErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cut = message.indexOf(" (os error");
  return cut < 0 ? message : message.slice(0, cut);
}

/** What reading an ACL file gave: the users it defines, or why it cannot be used. */
export interface ParsedAclFile {
  /** Users by name, in file order. */
  users: Map<string, AclUser>;
  /** Redis's error text for every problem found, empty when there was none. */
  errors: string;
}

const LINE_BLANKS = " \t\r\n";
const RULE_BLANKS = "\t\r\n";

function trim(text: string, blanks: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && blanks.includes(text[start]!)) start++;
  while (end > start && blanks.includes(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/**
 * Reads an ACL file's content (ACLLoadFromFile); `createUser` makes a
 * fresh user with the engine's defaults, and `fileName` is what the
 * messages call the file.
 */
export function parseAclFile(
  content: string,
  fileName: string,
  createUser: (name: string) => AclUser,
): ParsedAclFile {
  const users = new Map<string, AclUser>();
  let errors = "";
  // The file is read as a C string: a NUL ends it.
  const nul = content.indexOf("\0");
  const lines = (nul < 0 ? content : content.slice(0, nul)).split("\n");
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = trim(lines[index]!, LINE_BLANKS);
    if (line === "") continue;
    const args = line.split(" ");
    if (args[0] !== "user" || args.length < 2) {
      errors +=
        `${fileName}:${lineNumber} should start with user keyword followed by the username. `;
      continue;
    }
    const name = args[1]!;
    if (hasSpaces(name)) {
      errors += `'${fileName}:${lineNumber}: username '${name}' contains invalid characters. `;
      continue;
    }
    if (users.has(name)) {
      errors += `WARNING: Duplicate user '${name}' found on line ${lineNumber}. `;
      continue;
    }
    const user = createUser(name);
    users.set(name, user);
    const merged = mergeSelectorArguments(args.slice(2));
    if (!("rules" in merged)) {
      errors += `${fileName}:${lineNumber}: Unmatched parenthesis in selector definition.`;
      continue;
    }
    let reportedOther = false;
    for (const written of merged.rules) {
      const rule = trim(written, RULE_BLANKS);
      try {
        user.apply(rule);
      } catch (error) {
        if (!(error instanceof AclRuleError)) throw error;
        if (error.kind === "unknown-name") {
          errors +=
            `${fileName}:${lineNumber}: Error in applying operation '${rule}': ${error.message}. `;
        } else if (!reportedOther) {
          errors += `${fileName}:${lineNumber}: ${error.message}. `;
          reportedOther = true;
        }
      }
    }
  }
  return { users, errors };
}

/** The ACL file for `users` (ACL SAVE): one ACL LIST line each, newline-terminated. */
export function formatAclFile(users: readonly AclUser[]): string {
  let text = "";
  for (const user of users) text += `user ${user.name} ${user.describe()}\n`;
  return text;
}
