/**
 * Listeners per CallSid for something the media plane tells about every leg (keys pressed, talk
 * detection): one map lookup per notification, whatever the number of calls, and a listener
 * removed leaves nothing behind.
 */
export class CallListeners<T> {
  private readonly listeners = new Map<string, Set<(value: T) => void>>();

  /** Tells every listener of `callSid`. */
  tell(callSid: string, value: T): void {
    const listening = this.listeners.get(callSid);
    if (listening) for (const listener of [...listening]) listener(value);
  }

  /** Adds a listener of `callSid`; returns the function that removes it. */
  listen(callSid: string, listener: (value: T) => void): () => void {
    let listening = this.listeners.get(callSid);
    if (!listening) this.listeners.set(callSid, (listening = new Set()));
    const own = (value: T): void => listener(value);
    listening.add(own);
    return () => {
      listening.delete(own);
      if (listening.size === 0 && this.listeners.get(callSid) === listening) this.listeners.delete(callSid);
    };
  }
}
