// The dispatcher, on the leader: node heartbeats turn into Ready, missed ones into Down (after
// three periods, as Swarm), and a node that says it is leaving turns Down at once. It is a leader
// component: made from the store, started with leadership and stopped when it ends.
import { skepError } from '../../../shared/errors.js';
import type { NodeDescription } from '../../../shared/types.js';
import type { Proposer } from '../state/proposer.js';
import type { SwarmState } from '../state/store.js';

/** What a node reports about itself; its identity is the caller's certificate, not part of this. */
export interface NodeReport {
  readonly description: NodeDescription;
  readonly addr: string;
  readonly clusterAddr: string;
  readonly certNotAfter: string;
}

export interface DispatcherOptions {
  readonly selfId: string;
  readonly state: () => SwarmState;
  readonly proposer: Proposer;
  readonly heartbeatPeriodMs: number;
  readonly now?: () => number;
  readonly onError?: (error: unknown) => void;
  /** How long a registered node may take to send its first heartbeat before its registration is dropped. */
  readonly joinCompletionMs?: number;
}

/** Missed heartbeats after which a node is Down (Swarm's default is also 3 periods). */
export const MISSED_HEARTBEATS = 3;

/**
 * A joining node is registered (state unknown, no cluster address) when its certificate is issued;
 * its join completes with its first heartbeat. The joining side gives up 15 s after it has the certificate
 * (electron/node/daemon.ts), so a registration still unknown after this long never completes: it
 * is removed (and its certificate refused), not left as a ghost node.
 */
export const JOIN_COMPLETION_MS = 30_000;

export class Dispatcher {
  private readonly lastHeartbeat = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private readonly now: () => number;

  constructor(private readonly options: DispatcherOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Leadership began: a new leader has seen no heartbeats yet, so every node gets a full grace period. */
  start(): void {
    const now = this.now();
    for (const id of Object.keys(this.options.state().nodes)) this.lastHeartbeat.set(id, now);
    this.timer = setInterval(() => void this.checkMissed(), Math.max(50, Math.floor(this.options.heartbeatPeriodMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.lastHeartbeat.clear();
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  async heartbeat(nodeId: string, report: NodeReport): Promise<void> {
    if (!this.running) throw skepError('NO_LEADER');
    const node = this.options.state().nodes[nodeId];
    if (!node) throw skepError('NODE_NOT_FOUND', nodeId);
    this.lastHeartbeat.set(nodeId, this.now());
    const changed =
      node.status.state !== 'ready' ||
      node.status.addr !== report.addr ||
      node.clusterAddr !== report.clusterAddr ||
      node.certNotAfter !== report.certNotAfter ||
      JSON.stringify(node.description) !== JSON.stringify(report.description);
    if (!changed) return;
    const at = new Date(this.now()).toISOString();
    if (node.clusterAddr !== report.clusterAddr) {
      await this.options.proposer.propose({ op: 'node.register', node: { ...node, clusterAddr: report.clusterAddr, updatedAt: at } });
    }
    await this.options.proposer.propose({
      op: 'node.status',
      id: nodeId,
      at,
      state: 'ready',
      message: '',
      addr: report.addr,
      description: report.description,
      certNotAfter: report.certNotAfter,
    });
  }

  /** The node said it is leaving: Down now, not after three missed heartbeats. */
  async leave(nodeId: string): Promise<void> {
    if (!this.options.state().nodes[nodeId]) throw skepError('NODE_NOT_FOUND', nodeId);
    this.lastHeartbeat.delete(nodeId);
    await this.options.proposer.propose({ op: 'node.status', id: nodeId, at: new Date(this.now()).toISOString(), state: 'down', message: 'node left the swarm' });
  }

  private async checkMissed(): Promise<void> {
    if (this.checking || !this.running) return;
    this.checking = true;
    try {
      const now = this.now();
      const deadline = now - MISSED_HEARTBEATS * this.options.heartbeatPeriodMs;
      const joinDeadline = now - (this.options.joinCompletionMs ?? JOIN_COMPLETION_MS);
      for (const node of Object.values(this.options.state().nodes)) {
        if (node.id === this.options.selfId) continue;
        // Registered but never heard from (a first heartbeat sets the cluster address): not Down,
        // since it never was up, and gone once its join can't complete. This also clears the
        // ghosts that earlier versions marked Down.
        if (node.status.state !== 'ready' && node.clusterAddr === '') {
          if (Date.parse(node.createdAt) < joinDeadline) await this.options.proposer.propose({ op: 'node.remove', id: node.id });
          continue;
        }
        const last = this.lastHeartbeat.get(node.id);
        // A node that joined while this manager leads gets the same grace period as at start.
        if (last === undefined) {
          this.lastHeartbeat.set(node.id, now);
          continue;
        }
        if (node.status.state !== 'down' && last < deadline) {
          await this.options.proposer.propose({ op: 'node.status', id: node.id, at: new Date(this.now()).toISOString(), state: 'down', message: 'heartbeat failure' });
        }
      }
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.checking = false;
    }
  }
}
