// Whether this window can reach this machine's Skep node. Every reply says so (api.ts reports each
// one here): a reply means the node answered; DAEMON_UNREACHABLE or a closed socket means it is gone.
// Once gone, the store tries again with backoff until the node answers, then says it is back, so the
// window reloads what it shows and live updates resume. No spinner waits forever: a node that never
// answers the first call is "unreachable" after FIRST_ANSWER_MS.

export type ConnectionState = 'connecting' | 'connected' | 'unreachable';

/** How long the first answer may take before the window says it can't reach the node. */
export const FIRST_ANSWER_MS = 8000;
/** Waits between attempts to reach a lost node; the last one repeats. */
export const RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000, 15_000];
/** A probe that doesn't answer in this long counts as a failed attempt. */
const PROBE_TIMEOUT_MS = 10_000;

export interface ConnectionHooks {
  /** One call to the node (the swarm status); rejects when it can't be reached. */
  probe(): Promise<unknown>;
  /** The node answers again after being unreachable: reload what the window shows. */
  onRestored(): void;
}

export class ConnectionStore {
  state = $state<ConnectionState>('connecting');
  /** When the node last answered (ms since the epoch): how old the data on screen is. */
  lastAnswerAt = $state<number | undefined>(undefined);
  /** When the next attempt to reach the node starts, while it is unreachable. */
  nextAttemptAt = $state<number | undefined>(undefined);
  /** Attempts made since the node was lost. */
  attempts = $state(0);
  #hooks: ConnectionHooks | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #trying = false;

  start(hooks: ConnectionHooks): void {
    if (this.#hooks) return;
    this.#hooks = hooks;
    setTimeout(() => {
      if (this.state === 'connecting') this.lost();
    }, FIRST_ANSWER_MS);
  }

  /** The node answered (with a result or with one of its own errors). */
  answered(): void {
    this.lastAnswerAt = Date.now();
    if (this.state === 'connected') return;
    const wasLost = this.state === 'unreachable';
    this.state = 'connected';
    this.attempts = 0;
    this.nextAttemptAt = undefined;
    clearTimeout(this.#timer);
    if (wasLost) this.#hooks?.onRestored();
  }

  /** The node didn't answer: the socket closed, or the server behind it can't reach the daemon. */
  lost(): void {
    if (this.state === 'unreachable') return;
    this.state = 'unreachable';
    this.attempts = 0;
    this.#schedule();
  }

  /** "Try now" from the window. */
  retryNow(): void {
    clearTimeout(this.#timer);
    void this.#attempt();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const delay = RETRY_DELAYS_MS[Math.min(this.attempts, RETRY_DELAYS_MS.length - 1)] ?? 15_000;
    this.nextAttemptAt = Date.now() + delay;
    this.#timer = setTimeout(() => void this.#attempt(), delay);
  }

  async #attempt(): Promise<void> {
    if (this.#trying || !this.#hooks) return;
    this.#trying = true;
    this.nextAttemptAt = undefined;
    this.attempts += 1;
    let timeout: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#hooks.probe(),
        new Promise((_, reject) => (timeout = setTimeout(() => reject(new Error('no answer')), PROBE_TIMEOUT_MS))),
      ]);
      this.answered();
    } catch {
      // An error the node itself sent was already reported as an answer by api.ts.
    } finally {
      clearTimeout(timeout);
      this.#trying = false;
    }
    if (this.state === 'unreachable') this.#schedule();
  }
}

export const connection = new ConnectionStore();
