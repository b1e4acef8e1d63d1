/**
 * MemberSet: the value of a set key, a Set of binary strings that can also
 * pick a uniformly random member in O(1).
 *
 * SPOP and SRANDMEMBER need random members, which a Set cannot give without
 * walking it. So the first random access builds an array of the members,
 * kept for as long as it stays exact: `addMembers` appends to it,
 * `popRandom` removes from it by swapping with the last entry, and any other
 * removal drops it to be rebuilt on the next random access. A work queue fed
 * by SADD and drained by SPOP is thus O(1) per command. Every change to a
 * set goes through these methods, so the array never goes stale unnoticed
 * (the size check in `sample` is a safety net).
 *
 * Redis reports small all-integer sets as an intset; `isIntsetSized` is that
 * rule, for OBJECT ENCODING and SSCAN's one-call reply.
 *
 * @module
 */

/** Redis's default `set-max-intset-entries`. */
export const SET_MAX_INTSET_ENTRIES = 512;

export class MemberSet extends Set<string> {
  /** The members as an array for random picks, while it is in step with the set. */
  #sample: string[] | undefined;

  /** The members as an array, in step with the set (do not modify it). */
  sample(): readonly string[] {
    let members = this.#sample;
    if (members === undefined || members.length !== this.size) {
      members = this.#sample = Array.from(this);
    }
    return members;
  }

  /** Removes a random member of a non-empty set and returns it. */
  popRandom(): string {
    this.sample();
    const members = this.#sample!;
    const index = Math.floor(Math.random() * members.length);
    const member = members[index]!;
    members[index] = members[members.length - 1]!;
    members.pop();
    this.delete(member);
    return member;
  }

  /** Removes `member`; true if it was there. */
  removeMember(member: string): boolean {
    if (!this.delete(member)) return false;
    this.#sample = undefined;
    return true;
  }

  /** Adds `members[from..]`; returns how many were new. */
  addMembers(members: readonly string[], from = 0): number {
    const array = this.#sample;
    let added = 0;
    for (let i = from; i < members.length; i++) {
      const member = members[i]!;
      const before = this.size;
      this.add(member);
      if (this.size !== before) {
        added++;
        array?.push(member);
      }
    }
    return added;
  }

  /** Whether Redis would keep this set as an intset. */
  isIntsetSized(isInteger: (member: string) => boolean): boolean {
    if (this.size > SET_MAX_INTSET_ENTRIES) return false;
    for (const member of this) if (!isInteger(member)) return false;
    return true;
  }

  /** An independent copy (COPY). */
  copy(): MemberSet {
    return new MemberSet(this);
  }
}
