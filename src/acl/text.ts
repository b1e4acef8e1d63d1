/**
 * The C string helpers acl.c leans on, for binary strings: `strcasecmp`
 * (ASCII-only case folding, as in the C locale Redis runs in; JavaScript's
 * `toLowerCase` would also fold Latin-1 letters) and ACLStringHasSpaces.
 *
 * @module
 */

/** Lower-cases ASCII letters only (`tolower` in the C locale). */
export function asciiLower(text: string): string {
  let lower = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 65 && code <= 90) {
      lower += text.slice(start, i) + String.fromCharCode(code + 32);
      start = i + 1;
    }
  }
  return start === 0 ? text : lower + text.slice(start);
}

/** `strcasecmp(a, b) == 0`. */
export function equalsIgnoringCase(a: string, b: string): boolean {
  return a.length === b.length && asciiLower(a) === asciiLower(b);
}

/** Whether `text` has a C-locale space (space, \t, \n, \v, \f, \r) or a NUL (ACLStringHasSpaces). */
export function hasSpaces(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 32 || code === 0 || (code >= 9 && code <= 13)) return true;
  }
  return false;
}
