// Tag sets interned: every resource holds the index of its tag set, and a tag set shared by 100,000
// resources is stored once.
import type { Tag } from "../../handler/tagPolicy";

export class TagSets {
  private readonly sets: Tag[][] = [];
  private readonly byKey = new Map<string, number>();
  // Scenario builders hand back the same array for the same tags: skip the key for those, so
  // building 110,000 resources leaves no garbage to inflate the process's peak RSS.
  private readonly byArray = new WeakMap<Tag[], number>();

  intern(tags: Tag[]): number {
    const known = this.byArray.get(tags);
    if (known !== undefined) {
      return known;
    }
    const key = JSON.stringify(tags.map((t) => [t.Key, t.Value]));
    let index = this.byKey.get(key);
    if (index === undefined) {
      index = this.sets.length;
      // Flat copies: a tag parsed from a request is a V8 sliced string that keeps the whole
      // request body alive (38 KB for a CreateTags of 1,000 IDs), which charged the fake's
      // memory to the tagger's peak RSS.
      this.sets.push(tags.map((t) => ({ Key: flat(t.Key), Value: flat(t.Value) })));
      this.byKey.set(key, index);
    }
    this.byArray.set(tags, index);
    return index;
  }

  get(index: number): Tag[] {
    return this.sets[index];
  }
}

/** A copy of the string that shares no storage with the string it came from. */
function flat(value: string): string {
  return Buffer.from(value, "utf8").toString("utf8");
}
