// A node's session with the managers: a heartbeat every period to the leader (or any manager,
// which forwards it), following leader changes from the answers, as Swarm's agent does.
// Every manager is dialled as a manager: its certificate must say swarm-manager, and where the
// node ID is known (from earlier answers) the certificate must be that node's — so a worker
// listening at a manager's old address can never pass for one.
import { SkepError } from '../../shared/errors.js';
import type { ConnectionPool, Logger, PeerRef } from '../net/index.js';
import { call, type HeartbeatAnswer, type HeartbeatReport } from '../protocol/index.js';

export type { HeartbeatAnswer, HeartbeatReport };

/** A manager as the session knows it: an address, and its node ID once an answer named it. */
export interface KnownManager {
  readonly addr: string;
  readonly nodeId?: string;
}

export interface SessionOptions {
  readonly pool: ConnectionPool;
  readonly periodMs: number;
  readonly managers: () => readonly KnownManager[];
  readonly report: () => Promise<HeartbeatReport>;
  readonly onAnswer: (answer: HeartbeatAnswer, from: KnownManager) => void;
  /** A manager said this node was removed from the swarm: the session has stopped. */
  readonly onRemoved: () => void;
  readonly onFailure?: (error: unknown) => void;
  readonly logger: Logger;
}

export function managerRef(manager: KnownManager): PeerRef {
  return manager.nodeId === undefined
    ? { address: manager.addr, role: 'swarm-manager' }
    : { address: manager.addr, nodeId: manager.nodeId, role: 'swarm-manager' };
}

export class AgentSession {
  private timer: NodeJS.Timeout | undefined;
  /** The period in use: the node's own until a manager's answer names the swarm's. */
  private periodMs: number;
  private preferred: KnownManager | undefined;
  private running = false;
  private beating = false;
  private firstSuccess: Promise<void>;
  private markFirstSuccess!: () => void;
  private failFirst!: (error: Error) => void;

  constructor(private readonly options: SessionOptions) {
    this.periodMs = options.periodMs;
    this.firstSuccess = new Promise((resolve, reject) => {
      this.markFirstSuccess = resolve;
      this.failFirst = reject;
    });
    this.firstSuccess.catch(() => undefined);
  }

  start(): void {
    this.running = true;
    void this.beat();
    this.schedule();
  }

  private schedule(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.beat(), this.periodMs);
    this.timer.unref();
  }

  get period(): number {
    return this.periodMs;
  }

  /** Resolves after the first heartbeat a manager accepted; rejects if the node was removed first. */
  accepted(): Promise<void> {
    return this.firstSuccess;
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
      const preferred = this.preferred;
      const order = preferred ? [preferred, ...known.filter((m) => m.addr !== preferred.addr)] : [...known];
      let lastError: unknown = new Error('no manager address known');
      for (const manager of order) {
        try {
          const answer = await call(this.options.pool, managerRef(manager), 'dispatcher.heartbeat', report, { timeoutMs: this.periodMs });
          const leader = answer.managers.find((m) => m.nodeId === answer.leaderId);
          if (leader) this.preferred = { addr: leader.addr, nodeId: leader.nodeId };
          if (answer.periodMs !== undefined && answer.periodMs !== this.periodMs && this.running) {
            this.periodMs = answer.periodMs;
            this.schedule();
          }
          this.options.onAnswer(answer, manager);
          this.markFirstSuccess();
          return;
        } catch (error) {
          if (error instanceof SkepError && error.code === 'NODE_REMOVED') {
            this.removed(error);
            return;
          }
          lastError = error;
        }
      }
      this.options.onFailure?.(lastError);
    } catch (error) {
      // The report itself failed (facts unreadable): try again next period.
      this.options.onFailure?.(error);
    } finally {
      this.beating = false;
    }
  }

  /** Stops for good: retrying would only be refused again. */
  removed(error: Error): void {
    if (!this.running) return;
    this.stop();
    this.failFirst(error);
    this.options.logger.warn('agent: a manager says this node was removed from the swarm; the session stopped');
    this.options.onRemoved();
  }
}
