/** What happened to a record, as far as the CRM cares; the last change of a record wins. */
export type CapturedChange = 'upsert' | 'delete' | 'softDelete';

/** Changes per entity class and record id. */
export class ChangeSet {
  readonly byTarget = new Map<Function, Map<string, CapturedChange>>();

  get size(): number {
    let size = 0;
    for (const ids of this.byTarget.values()) size += ids.size;
    return size;
  }

  add(target: Function, id: string, change: CapturedChange): void {
    let ids = this.byTarget.get(target);
    if (!ids) this.byTarget.set(target, (ids = new Map()));
    // Re-inserting keeps the id last in iteration order: later changes are processed last.
    ids.delete(id);
    ids.set(id, change);
  }

  /** Adds a record only when this set does not know it yet (a derived change never overrides a real one). */
  addIfAbsent(target: Function, id: string, change: CapturedChange): boolean {
    if (this.byTarget.get(target)?.has(id)) return false;
    this.add(target, id, change);
    return true;
  }

  merge(other: ChangeSet): void {
    for (const [target, ids] of other.byTarget)
      for (const [id, change] of ids) this.add(target, id, change);
  }

  ids(target: Function, change: CapturedChange): string[] {
    const ids: string[] = [];
    for (const [id, c] of this.byTarget.get(target) ?? [])
      if (c === change) ids.push(id);
    return ids;
  }
}

/**
 * The changes of one QueryRunner, one level per transaction depth: releasing a savepoint folds
 * its level into the enclosing one, rolling it back drops it, and only the outermost commit
 * hands the whole set over.
 */
export class TransactionBuffer {
  private readonly levels: Array<ChangeSet | undefined> = [];

  record(
    depth: number,
    target: Function,
    id: string,
    change: CapturedChange,
  ): void {
    let level = this.levels[depth];
    if (!level) this.levels[depth] = level = new ChangeSet();
    level.add(target, id, change);
  }

  /** Called after a commit; `depth` is the depth left. Returns the changes to flush, if any. */
  committed(depth: number): ChangeSet | undefined {
    const folded = this.fold(depth);
    if (depth > 0) {
      if (folded) this.levels[depth] = folded;
      return undefined;
    }
    this.levels.length = 0;
    return folded;
  }

  /** Called after a rollback; `depth` is the depth left. The rolled-back levels are dropped. */
  rolledBack(depth: number): void {
    this.levels.length =
      depth === 0 ? 0 : Math.min(this.levels.length, depth + 1);
  }

  get empty(): boolean {
    return !this.levels.some((level) => level?.size);
  }

  private fold(depth: number): ChangeSet | undefined {
    let folded: ChangeSet | undefined;
    for (let i = depth; i < this.levels.length; i++) {
      const level = this.levels[i];
      if (!level?.size) continue;
      if (!folded) folded = new ChangeSet();
      folded.merge(level);
    }
    this.levels.length = depth;
    return folded;
  }
}
