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
      this.sets.push(tags.map((t) => ({ ...t })));
      this.byKey.set(key, index);
    }
    this.byArray.set(tags, index);
    return index;
  }

  get(index: number): Tag[] {
    return this.sets[index];
  }
}
