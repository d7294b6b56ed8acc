// A tiny typed event emitter (no EventTarget, no node:events, so the client stays browser-safe),
// and Listenable, the base of MuxClient and MuxChannel that gives them their `on`/`off`.

type Listener<T> = (value: T) => void;

/** Listeners by event name; `M` maps each event name to its payload. */
export class Emitter<M> {
  readonly #listeners = new Map<keyof M, Set<Listener<never>>>();

  on<K extends keyof M>(event: K, fn: Listener<M[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  off<K extends keyof M>(event: K, fn: Listener<M[K]>): void {
    this.#listeners.get(event)?.delete(fn);
  }

  has(event: keyof M): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof M>(event: K, value: M[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<M[K]>)(value);
      } catch (err) {
        queueMicrotask(() => {
          throw err; // reported like an EventTarget listener's error; dispatch goes on
        });
      }
    }
  }
}

/**
 * Public `on`/`off` over an {@link Emitter} the subclass keeps to itself: only the subclass,
 * which passed the emitter in, can emit.
 */
export class Listenable<M> {
  readonly #emitter: Emitter<M>;

  protected constructor(emitter: Emitter<M>) {
    this.#emitter = emitter;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof M>(event: K, fn: (value: M[K]) => void): () => void {
    return this.#emitter.on(event, fn);
  }

  /** Unsubscribes a listener added with {@link on}. */
  off<K extends keyof M>(event: K, fn: (value: M[K]) => void): void {
    this.#emitter.off(event, fn);
  }
}
