/** A minimal typed event emitter: one payload per event; `on` returns its own unsubscribe. */
export class Emitter<E> {
  private readonly listeners = new Map<keyof E, Set<(payload: never) => void>>();

  on<K extends keyof E>(event: K, fn: (payload: E[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as (payload: never) => void);
    return () => this.off(event, fn);
  }

  once<K extends keyof E>(event: K, fn: (payload: E[K]) => void): () => void {
    const off = this.on(event, (p) => { off(); fn(p); });
    return off;
  }

  off<K extends keyof E>(event: K, fn: (payload: E[K]) => void): void {
    this.listeners.get(event)?.delete(fn as (payload: never) => void);
  }

  /** A listener that throws does not stop the others, nor the client: the error is reported asynchronously. */
  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      try {
        (fn as (p: E[K]) => void)(payload);
      } catch (err) {
        queueMicrotask(() => { throw err; });
      }
    }
  }
}
