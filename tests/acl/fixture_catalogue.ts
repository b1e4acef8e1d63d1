/**
 * An ACL catalogue of every Redis 7.0.15 command, built from the recorded
 * `COMMAND` output (fixtures/redis_commands.json, see record_catalogue.ts),
 * so engine tests compare with a real redis-server on the very same
 * command set: ACL LIST's category approximation depends on every command
 * of every category.
 *
 * Keys come from the recorded key specs through Redis's
 * getKeysUsingKeySpecs (index or keyword begin-search, range or keynum
 * find-keys; NOT_KEY specs skipped; a spec out of bounds gives no keys).
 * Commands whose specs are INCOMPLETE or VARIABLE_FLAGS need Redis's own
 * key functions; `KEY_FUNCTIONS` has the ones the tests use (SET), and
 * tests avoid the others for key checks.
 *
 * @module
 */

import {
  AclCatalogue,
  type AclCommandSpec,
  type AclKeyReference,
  keyAccess,
  REDIS_CHANNEL_FINDERS,
} from "../../src/acl/mod.ts";
import type { RecordedCommand, RecordedKeySpec } from "./record_catalogue.ts";

const FIXTURE = new URL("./fixtures/redis_commands.json", import.meta.url);

/** The recorded commands, sorted by name (subcommands too). */
export const RECORDED_COMMANDS: readonly RecordedCommand[] = JSON.parse(
  Deno.readTextFileSync(FIXTURE),
);

function parseCount(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0|-?[1-9][0-9]*)$/.test(text)) return undefined;
  return Number(text);
}

/** Redis's getKeysUsingKeySpecs for one command's recorded specs. */
export function keysFromSpecs(
  specs: readonly RecordedKeySpec[],
  args: readonly string[],
): AclKeyReference[] {
  const keys: AclKeyReference[] = [];
  const argc = args.length;
  for (const spec of specs) {
    if (spec.flags.some((flag) => flag.toUpperCase() === "NOT_KEY")) continue;
    let first = 0;
    const begin = spec.beginSearch;
    if ("index" in begin) {
      first = begin.index;
    } else {
      const start = begin.startFrom > 0 ? begin.startFrom : argc + begin.startFrom;
      const end = begin.startFrom > 0 ? argc - 1 : 1;
      for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1) break;
        if (args[i]!.toLowerCase() === begin.keyword.toLowerCase()) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue;
    }
    let last: number;
    let step: number;
    const find = spec.findKeys;
    if ("lastKey" in find) {
      step = find.keyStep;
      if (find.lastKey >= 0) last = first + find.lastKey;
      else if (find.limit === 0) last = argc + find.lastKey;
      else last = first + (Math.trunc((argc - first) / find.limit) + find.lastKey);
    } else {
      step = find.keyStep;
      if (find.keyNumIndex >= argc) return [];
      const count = parseCount(args[first + find.keyNumIndex]);
      if (count === undefined || count < 0) return [];
      first += find.firstKey;
      last = first + count - 1;
    }
    if (last >= argc || last < first || first >= argc) return [];
    const { read, write } = keyAccess(spec.flags);
    for (let i = first; i <= last; i += step) {
      if (i >= argc) continue;
      keys.push({ position: i, read, write });
    }
  }
  return keys;
}

/**
 * Redis's own key functions for the few commands the tests send whose key
 * specs say VARIABLE_FLAGS: SET reads its key only with GET (setGetKeys).
 */
const KEY_FUNCTIONS: Record<string, (args: readonly string[]) => AclKeyReference[]> = {
  set: (args) => [{
    position: 1,
    read: args.slice(3).some((arg) => arg.toUpperCase() === "GET"),
    write: true,
  }],
};

function spec(command: RecordedCommand): AclCommandSpec {
  const keySpecs = command.keySpecs;
  const keys = KEY_FUNCTIONS[command.name] ??
    (keySpecs.length === 0
      ? undefined
      : (args: readonly string[]) => keysFromSpecs(keySpecs, args));
  return {
    name: command.name,
    arity: command.arity,
    categories: command.categories,
    noAuth: command.flags.includes("no_auth"),
    subcommands: command.subcommands.map(spec),
    keys,
    channels: REDIS_CHANNEL_FINDERS.get(command.name),
  };
}

/** Specs for every recorded command; `order` puts them in another order. */
export function recordedSpecs(
  order?: (a: RecordedCommand, b: RecordedCommand) => number,
): AclCommandSpec[] {
  const commands = order ? RECORDED_COMMANDS.toSorted(order) : RECORDED_COMMANDS;
  return commands.map(spec);
}

/** A catalogue of every Redis 7.0.15 command, in name order. */
export function redisCatalogue(): AclCatalogue {
  return new AclCatalogue(recordedSpecs());
}
