// Polling without refresh storms: one request in flight at a time, the next
// one scheduled only after the last one ended, nothing while the tab is
// hidden, slower after errors, and everything stopped when the view changes.

export class Poller {
  /// `task(signal)` fetches and renders; it is called at once, then every
  /// `interval` ms after the previous call ended.
  constructor(task, interval) {
    this.task = task;
    this.interval = interval;
    this.timer = null;
    this.controller = null;
    this.running = false;
    this.stopped = false;
    this.failures = 0;
    this.again = false;
    this.onVisible = () => {
      if (!document.hidden && this.timer === null && !this.running) this.tick();
    };
  }

  start() {
    document.addEventListener('visibilitychange', this.onVisible);
    this.tick();
    return this;
  }

  /// Fetch now (after an action or a filter change); if a fetch is under
  /// way, fetch again as soon as it ends.
  poke() {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = null;
    this.tick();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
    document.removeEventListener('visibilitychange', this.onVisible);
    if (this.controller) this.controller.abort();
  }

  async tick() {
    this.timer = null;
    if (this.stopped || this.running) return;
    if (document.hidden) return; // onVisible starts again
    this.running = true;
    this.controller = new AbortController();
    let keepGoing = true;
    try {
      keepGoing = (await this.task(this.controller.signal)) !== false;
      this.failures = 0;
    } catch (e) {
      if (e && e.name === 'AbortError') return;
      // 401 stops polling: the sign-in page takes over.
      if (e && e.status === 401) keepGoing = false;
      this.failures += 1;
    } finally {
      this.running = false;
      this.controller = null;
    }
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      this.timer = setTimeout(() => this.tick(), 0);
      return;
    }
    if (!keepGoing || this.interval <= 0) return;
    // 2 s, then 4, 8, 16, 30 s at most while the daemon does not answer.
    const wait = Math.min(this.interval * 2 ** this.failures, 30000);
    this.timer = setTimeout(() => this.tick(), wait);
  }
}
