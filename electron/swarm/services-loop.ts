// The leader's services loop: on every store change (coalesced) and at the times the orchestrator
// asks for, run one orchestrator pass and one scheduler pass over the store's state and propose
// both results as one `tasks.batch` entry. The passes themselves are pure (orchestrator/,
// scheduler/); this class only feeds them, times them and writes their decisions. It starts and
// stops with leadership, and a new leader's first pass reconciles everything from scratch.
import { placementNodeFromSwarmNode, type PlacementNode } from '../../shared/constraints.js';
import type { Logger } from '../net/index.js';
import { randomBase36Id } from './ca/index.js';
import { orchestrate } from './orchestrator/index.js';
import { schedule } from './scheduler/index.js';
import type { Proposer } from './state/proposer.js';
import { applyCommand, servicesOf, tasksOf, type NodeRecord, type StoreChange, type SwarmState, type TaskBatchChange } from './state/store.js';

export interface ServicesLoopOptions {
  readonly state: () => SwarmState;
  readonly watch: (listener: (change: StoreChange) => void) => () => void;
  readonly proposer: Proposer;
  readonly logger: Logger;
  readonly now?: () => number;
  /** How long store changes gather before a pass (a burst of reports becomes one pass). */
  readonly coalesceMs?: number;
  /** After a failed proposal (no quorum for a moment), the next try. */
  readonly retryMs?: number;
}

/** A batch larger than this is split over several entries (Raft's entry size bound). */
const MAX_CHANGES_PER_ENTRY = 2000;

export function placementNode(node: NodeRecord): PlacementNode {
  return placementNodeFromSwarmNode(node);
}

export class ServicesLoop {
  private unwatch: (() => void) | undefined;
  private soon: NodeJS.Timeout | undefined;
  private wake: NodeJS.Timeout | undefined;
  private passing = false;
  private again = false;
  private readonly now: () => number;
  /** Passes proposed since start (for tests and the bench). */
  proposals = 0;

  constructor(private readonly options: ServicesLoopOptions) {
    this.now = options.now ?? Date.now;
  }

  get running(): boolean {
    return this.unwatch !== undefined;
  }

  start(): void {
    if (this.unwatch) return;
    this.unwatch = this.options.watch((change) => {
      if (change.state.tasks !== change.previous.tasks || change.state.services !== change.previous.services || change.state.nodes !== change.previous.nodes) this.request();
    });
    this.request();
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    clearTimeout(this.soon);
    clearTimeout(this.wake);
    this.soon = undefined;
    this.wake = undefined;
  }

  /** A pass soon; bursts of changes share one. */
  private request(delayMs = this.options.coalesceMs ?? 10): void {
    if (!this.running) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.pass();
    }, delayMs);
    this.soon.unref();
  }

  private async pass(): Promise<void> {
    if (!this.running || this.passing) return;
    this.passing = true;
    this.again = false;
    let retry = false;
    try {
      const state = this.options.state();
      if (!state.cluster) return;
      const now = this.now();
      const nodes = Object.values(state.nodes).map(placementNode);
      const orchestrated = orchestrate({ services: Object.values(servicesOf(state)), tasks: Object.values(tasksOf(state)), nodes }, { now, newId: () => randomBase36Id() });
      const at = new Date(now).toISOString();
      // The scheduler sees the orchestrator's decisions, so new tasks are placed in the same entry.
      const after = applyCommand(state, { op: 'tasks.batch', at, changes: orchestrated.changes }).state;
      const scheduled = schedule({ nodes, tasks: Object.values(tasksOf(after)), now });
      const changes: TaskBatchChange[] = [
        ...orchestrated.changes,
        ...scheduled.updates.map((u): TaskBatchChange => ({ op: 'task.assign', taskId: u.taskId, nodeId: u.nodeId, status: u.status })),
      ];
      for (let i = 0; i < changes.length; i += MAX_CHANGES_PER_ENTRY) {
        await this.options.proposer.propose({ op: 'tasks.batch', at, changes: changes.slice(i, i + MAX_CHANGES_PER_ENTRY) });
        this.proposals++;
      }
      this.scheduleWake(orchestrated.nextRunAt, now);
    } catch (error) {
      retry = true;
      this.options.logger.debug('services: a pass could not be proposed; trying again', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      this.passing = false;
    }
    if (retry) this.request(this.options.retryMs ?? 500);
    else if (this.again) this.request();
  }

  private scheduleWake(at: number | null, now: number): void {
    clearTimeout(this.wake);
    this.wake = undefined;
    if (at === null || !this.running) return;
    this.wake = setTimeout(() => {
      this.wake = undefined;
      this.request(0);
    }, Math.max(0, at - now) + 5);
    this.wake.unref();
  }
}
