// A node's session with the managers: a heartbeat every period to the leader (or any manager,
// which forwards it), following leader changes from the answers, as Swarm's agent does.
import type { ConnectionPool, Logger } from '../net/index.js';

export const HEARTBEAT_METHOD = 'dispatcher.heartbeat';

export interface HeartbeatAnswer {
  readonly clusterId: string;
  readonly leaderId: string | null;
  readonly managers: readonly { readonly nodeId: string; readonly addr: string }[];
  /** The role the swarm wants this node to have. */
  readonly desiredRole: 'manager' | 'worker';
}

export interface SessionOptions {
  readonly pool: ConnectionPool;
  readonly periodMs: number;
  readonly managers: () => readonly string[];
  readonly report: () => Promise<unknown>;
  readonly onAnswer: (answer: HeartbeatAnswer, from: string) => void;
  readonly onFailure?: (error: unknown) => void;
  readonly logger: Logger;
}

export class AgentSession {
  private timer: NodeJS.Timeout | undefined;
  private preferred: string | undefined;
  private running = false;
  private beating = false;
  private firstSuccess: Promise<void>;
  private markFirstSuccess!: () => void;

  constructor(private readonly options: SessionOptions) {
    this.firstSuccess = new Promise((resolve) => (this.markFirstSuccess = resolve));
  }

  start(): void {
    this.running = true;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.options.periodMs);
    this.timer.unref();
  }

  /** Resolves after the first heartbeat a manager accepted. */
  accepted(): Promise<void> {
    return this.firstSuccess;
  }

  preferManager(address: string): void {
    this.preferred = address;
  }

  stop(): void {
    this.running = false;
    clearInterval(this.timer);
  }

  async beat(): Promise<void> {
    if (!this.running || this.beating) return;
    this.beating = true;
    try {
      const report = await this.options.report();
      const known = this.options.managers();
      const order = this.preferred ? [this.preferred, ...known.filter((a) => a !== this.preferred)] : [...known];
      let lastError: unknown = new Error('no manager address known');
      for (const address of order) {
        try {
          const answer = await this.options.pool.request<HeartbeatAnswer>({ address }, HEARTBEAT_METHOD, report, { timeoutMs: this.options.periodMs });
          const leaderAddr = answer.managers.find((m) => m.nodeId === answer.leaderId)?.addr;
          if (leaderAddr) this.preferred = leaderAddr;
          this.options.onAnswer(answer, address);
          this.markFirstSuccess();
          return;
        } catch (error) {
          lastError = error;
        }
      }
      this.options.onFailure?.(lastError);
    } finally {
      this.beating = false;
    }
  }
}
