/**
 * Rule lists as ACL SETUSER, ACL files and config `user` lines give them:
 * selectors may be written across several arguments (`(+get` `~x)`), and
 * are joined back into one rule first (acl.c's ACLMergeSelectorArguments).
 *
 * The joining is Redis's, quirks included: an argument that opens a
 * selector while one is already open starts over (`(+get (~x +set)` is the
 * one selector `(~x +set)`), and a selector still open at the end fails
 * the whole list.
 *
 * @module
 */

/** Rules with multi-argument selectors joined, or the index of an unclosed `(`. */
export type MergedRules = { rules: string[] } | { unclosedAt: number };

/** Joins selectors written across arguments (ACLMergeSelectorArguments). */
export function mergeSelectorArguments(args: readonly string[]): MergedRules {
  const rules: string[] = [];
  let open: string | undefined;
  let openedAt = -1;
  for (let index = 0; index < args.length; index++) {
    const rule = args[index]!;
    if (rule[0] === "(" && rule[rule.length - 1] !== ")") {
      open = rule;
      openedAt = index;
      continue;
    }
    if (open !== undefined) {
      open += " " + rule;
      if (rule !== "" && rule[rule.length - 1] === ")") {
        rules.push(open);
        open = undefined;
      }
      continue;
    }
    rules.push(rule);
  }
  return open === undefined ? { rules } : { unclosedAt: openedAt };
}
