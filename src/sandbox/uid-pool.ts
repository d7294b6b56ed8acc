// The per-session uids (drop_privileges as root): one uid (= gid) per live session from
// [first, first + size), handed out least recently released first so a uid whose last process is
// still being reaped is not reused at once. One pool per manager; release is idempotent per uid.

export class UidPool {
  readonly first: number;
  readonly size: number;
  #next: number;
  readonly #free: number[] = [];
  readonly #used = new Set<number>();

  constructor(first: number, size: number) {
    if (!Number.isInteger(first) || !Number.isInteger(size) || first < 1 || size < 1) {
      throw new RangeError(`bad uid range: ${first} + ${size}`);
    }
    this.first = first;
    this.size = size;
    this.#next = first;
  }

  get inUse(): number {
    return this.#used.size;
  }

  /** A free uid, or undefined when every uid of the range is in use. */
  allocate(): number | undefined {
    let uid: number | undefined;
    if (this.#next < this.first + this.size) uid = this.#next++;
    else uid = this.#free.shift();
    if (uid !== undefined) this.#used.add(uid);
    return uid;
  }

  release(uid: number): void {
    if (this.#used.delete(uid)) this.#free.push(uid);
  }
}
