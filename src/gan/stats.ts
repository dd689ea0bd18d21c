/**
 * The one channel through which training reports numbers. The loop calls `report(name, value)`; the
 * progress bar, the JSONL log and the studio subscribe. Nothing in the loop knows who listens.
 */
export type StatListener = (step: number, stats: Readonly<Record<string, number>>) => void;

export class StatsChannel {
  private pending: Record<string, number> = {};
  private listeners: StatListener[] = [];
  private noticeListeners: ((message: string) => void)[] = [];

  /** Something a person should read (a rollback, a lowered learning rate); not a number to plot. */
  notice(message: string): void {
    for (const l of this.noticeListeners) l(message);
  }

  onNotice(listener: (message: string) => void): () => void {
    this.noticeListeners.push(listener);
    return () => {
      this.noticeListeners = this.noticeListeners.filter((l) => l !== listener);
    };
  }

  /** Record a value for the current step (a later value with the same name replaces it). */
  report(name: string, value: number): void {
    this.pending[name] = value;
  }

  subscribe(listener: StatListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** Close the step: hand everything reported since the last flush to every listener. */
  flush(step: number): Record<string, number> {
    const stats = this.pending;
    this.pending = {};
    for (const l of this.listeners) l(step, stats);
    return stats;
  }
}
