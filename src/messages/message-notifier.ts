import type { MessageStatus } from './message.js';

type Listener = (status: MessageStatus) => void;

/** In-process signal that a message changed state, so a waiting request can answer without polling. */
export class MessageNotifier {
  private readonly listeners = new Map<string, Set<Listener>>();

  notify(id: string, status: MessageStatus): void {
    const set = this.listeners.get(id);
    if (set === undefined) return;
    for (const listener of set) listener(status);
  }

  subscribe(id: string, listener: Listener): () => void {
    let set = this.listeners.get(id);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }
}
