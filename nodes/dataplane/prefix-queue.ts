// Kernel changes of one prefix run in the order they were decided (the
// service decides on one PBU while the previous change of the same prefix
// may still wait for a route lookup). A change that needs no lookup goes to
// the ip shell at once: its one pipe keeps the order of the lines, so it
// need not wait for the previous change's answer (a handover's bind right
// after the old MAG's de-registration unbind); one that needs a lookup waits
// for the change before it.

export class PrefixQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Is a change of this prefix still under way? */
  busy(prefix: string): boolean {
    return this.tails.has(prefix);
  }

  run(prefix: string, change: () => Promise<void>, direct: boolean): Promise<void> {
    const prev = this.tails.get(prefix) ?? Promise.resolve();
    const next = direct ? Promise.all([prev, change()]).then(() => undefined) : prev.then(change);
    this.tails.set(prefix, next);
    void next.then(() => {
      if (this.tails.get(prefix) === next) this.tails.delete(prefix);
    });
    return next;
  }

  /** Resolves when every change queued so far has run. */
  drain(): Promise<unknown> {
    return Promise.allSettled([...this.tails.values()]);
  }
}
