// The role manager, on the leader: turns each node's wanted role (spec.role) into Raft membership,
// one step at a time as Raft allows — add a learner, promote it once caught up, remove a demoted
// manager (handing leadership over first when it is this node) — and records the actual role once
// membership changed. A leader component, as swarmkit's role manager.
import type { ConfState } from '../../raft/types.js';
import type { Proposer } from '../state/proposer.js';
import type { SwarmState } from '../state/store.js';

/** The parts of Raft the role manager drives. */
export interface Membership {
  status(): { readonly confState: ConfState; readonly commit: number; readonly progress?: Readonly<Record<string, { readonly match: number }>> };
  addLearner(nodeId: string): Promise<unknown>;
  promote(nodeId: string): Promise<unknown>;
  remove(nodeId: string): Promise<unknown>;
  transferLeadership(to: string): Promise<unknown>;
}

export interface RoleManagerOptions {
  readonly selfId: string;
  readonly state: () => SwarmState;
  readonly proposer: Proposer;
  readonly membership: Membership;
  readonly periodMs?: number;
  readonly onError?: (error: unknown) => void;
}

export class RoleManager {
  private timer: NodeJS.Timeout | undefined;
  private reconciling = false;

  constructor(private readonly options: RoleManagerOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.periodMs ?? 250);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.reconciling || this.timer === undefined) return;
    this.reconciling = true;
    try {
      await this.reconcileOnce();
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.reconciling = false;
    }
  }

  /** Takes at most one step; returns what it did (for tests), or undefined when all is in place. */
  async reconcileOnce(): Promise<string | undefined> {
    const { membership, proposer, selfId } = this.options;
    const status = membership.status();
    const { voters, learners } = status.confState;
    const nodes = this.options.state().nodes;

    // Actual roles follow Raft membership: a voter is a manager, anything else a worker.
    for (const node of Object.values(nodes)) {
      const actual = voters.includes(node.id) ? 'manager' : 'worker';
      if (node.role !== actual) {
        await proposer.propose({ op: 'node.role', id: node.id, at: new Date().toISOString(), role: actual });
        return `role ${node.id} ${actual}`;
      }
    }
    // Demoted or removed voters leave Raft; the leader hands leadership over before removing itself.
    for (const id of [...voters, ...learners]) {
      const node = nodes[id];
      if (node && node.spec.role === 'manager') continue;
      if (id === selfId) {
        const successor = voters
          .filter((v) => v !== selfId && nodes[v]?.spec.role === 'manager')
          .sort((a, b) => (status.progress?.[b]?.match ?? 0) - (status.progress?.[a]?.match ?? 0))[0];
        // No voter to hand over to yet: go on, so a learner that wants to be manager can become one.
        if (!successor) continue;
        await membership.transferLeadership(successor).catch(() => undefined);
        return `transfer ${successor}`;
      }
      await membership.remove(id);
      return `remove ${id}`;
    }
    // Promote a learner that has caught up with the leader's log.
    for (const id of learners) {
      if ((status.progress?.[id]?.match ?? 0) >= status.commit) {
        await membership.promote(id);
        return `promote ${id}`;
      }
    }
    // Add managers-to-be as learners once their cluster address is known.
    for (const node of Object.values(nodes)) {
      if (node.spec.role !== 'manager' || voters.includes(node.id) || learners.includes(node.id)) continue;
      if (!node.clusterAddr || node.status.state !== 'ready') continue;
      await membership.addLearner(node.id);
      return `learner ${node.id}`;
    }
    return undefined;
  }
}
