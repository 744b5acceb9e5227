// One scheduling pass, as Swarm's scheduler tick (manager/scheduler/scheduler.go): every task waiting
// for a node is decided at once, so 100 new tasks become one list of updates for one proposal.
// Pure and deterministic: nodes, tasks and the time in; decisions out.
//
// - Tasks created for a node (global services) are checked against that node only.
// - Other tasks are grouped by service and spec version and spread over the nodes that pass the
//   filters: placement preferences first (a tree of label values), then the fewest tasks of the
//   service, then the fewest tasks overall; a node where the service keeps failing goes last.
// - A task no node can take stays PENDING with "no suitable node (…)".
import type { PlacementNode } from '../../../shared/constraints.js';
import { ENGINE_LABEL_PREFIX, NODE_LABEL_PREFIX } from '../../../shared/constraints.js';
import { taskStateRank, type Task, type TaskStatus } from '../../../shared/services.js';
import { NodeInfo } from './node-info.js';
import { Pipeline } from './pipeline.js';

export const MESSAGE_ASSIGNED = 'scheduler assigned task to node';
export const MESSAGE_PREASSIGNED_CONFIRMED = 'scheduler confirmed task can run on preassigned node';
export const MESSAGE_PENDING = 'pending task scheduling';

/** A node where a service's current spec failed this often within FAILURE_LOOKBACK_MS is tried last. */
export const MAX_RECENT_FAILURES = 5;
export const FAILURE_LOOKBACK_MS = 5 * 60_000;

export interface SchedulerInput {
  readonly nodes: readonly PlacementNode[];
  /** The store's tasks; the scheduler picks those waiting for a node and counts those that occupy one. */
  readonly tasks: Iterable<Task>;
  /** Milliseconds since the epoch; stamps the new statuses. */
  readonly now: number;
}

export interface TaskStatusUpdate {
  readonly taskId: string;
  /** The node the task now runs on ('' when it is still waiting). */
  readonly nodeId: string;
  readonly status: TaskStatus;
}

export interface SchedulingResult {
  /** Tasks given a node (status ASSIGNED). */
  readonly assignments: readonly TaskStatusUpdate[];
  /** Tasks no node can take, with why (status PENDING, err "no suitable node (…)"). */
  readonly pending: readonly TaskStatusUpdate[];
  /** Everything that changes a task, for one proposal: the assignments, new or changed pending reasons, and shut-down unscheduled tasks. */
  readonly updates: readonly TaskStatusUpdate[];
}

const PENDING = taskStateRank('pending');
const ASSIGNED = taskStateRank('assigned');
const RUNNING = taskStateRank('running');

function failureKey(task: Pick<Task, 'serviceId' | 'specVersion'>): string {
  return `${task.serviceId}@${task.specVersion}`;
}

function byId<T extends { readonly id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function bySlotThenId(a: Task, b: Task): number {
  return a.slot - b.slot || byId(a, b);
}

interface DecisionTree {
  tasks: number;
  next: Map<string, DecisionTree> | null;
  nodes: NodeInfo[];
  visited: boolean;
}

type NodeCompare = (a: NodeInfo, b: NodeInfo) => number;

export function schedule(input: SchedulerInput): SchedulingResult {
  return new SchedulingPass(input).run();
}

class SchedulingPass {
  private readonly timestamp: string;
  private readonly nodes: NodeInfo[];
  private readonly nodesById = new Map<string, NodeInfo>();
  private readonly pipeline = new Pipeline();
  private readonly unassigned: Task[] = [];
  private readonly preassigned: Task[] = [];
  private readonly assignments: TaskStatusUpdate[] = [];
  private readonly pending: TaskStatusUpdate[] = [];
  private readonly updates: TaskStatusUpdate[] = [];

  constructor(private readonly input: SchedulerInput) {
    this.timestamp = new Date(input.now).toISOString();
    this.nodes = [...input.nodes].sort(byId).map((n) => new NodeInfo(n));
    for (const n of this.nodes) this.nodesById.set(n.id, n);
  }

  run(): SchedulingResult {
    this.sortTasks();
    // Tasks made for a node go first: a global service should start before others fill the node.
    for (const task of this.preassigned.sort(byId)) this.schedulePreassigned(task);
    const groups = new Map<string, Task[]>();
    for (const task of this.unassigned) {
      const key = failureKey(task);
      const group = groups.get(key);
      if (group) group.push(task);
      else groups.set(key, [task]);
    }
    for (const key of [...groups.keys()].sort()) this.scheduleGroup(groups.get(key)!.sort(bySlotThenId));
    return { assignments: this.assignments, pending: this.pending, updates: this.updates };
  }

  private sortTasks(): void {
    for (const task of this.input.tasks) {
      const state = taskStateRank(task.status.state);
      if (state <= PENDING) {
        // Never scheduled: a task no longer wanted is shut down here, since no agent has it.
        if (taskStateRank(task.desiredState) > RUNNING) {
          this.updates.push({ taskId: task.id, nodeId: task.nodeId, status: { ...task.status, state: 'shutdown', timestamp: this.timestamp, err: '' } });
        } else if (task.nodeId === '') this.unassigned.push(task);
        else this.preassigned.push(task);
        continue;
      }
      const node = this.nodesById.get(task.nodeId);
      if (!node) continue;
      if (state >= ASSIGNED && state <= RUNNING) node.addTask(task);
      else if ((task.status.state === 'failed' || task.status.state === 'rejected') && task.slot > 0) {
        // Global tasks don't count: the scheduler didn't choose their node.
        const at = Date.parse(task.status.timestamp);
        if (this.input.now - at <= FAILURE_LOOKBACK_MS) node.recordFailure(failureKey(task));
      }
    }
  }

  private assign(task: Task, node: NodeInfo, message: string): void {
    const status: TaskStatus = { ...task.status, state: 'assigned', timestamp: this.timestamp, message, err: '' };
    node.addTask({ ...task, nodeId: node.id, status });
    const update = { taskId: task.id, nodeId: node.id, status };
    this.assignments.push(update);
    this.updates.push(update);
  }

  private leavePending(task: Task, err: string): void {
    const status: TaskStatus = { ...task.status, state: 'pending', message: task.status.state === 'new' ? MESSAGE_PENDING : task.status.message, err };
    const changed = status.state !== task.status.state || status.message !== task.status.message || status.err !== task.status.err;
    const update = { taskId: task.id, nodeId: task.nodeId, status: changed ? { ...status, timestamp: this.timestamp } : task.status };
    this.pending.push(update);
    if (changed) this.updates.push(update);
  }

  private schedulePreassigned(task: Task): void {
    const node = this.nodesById.get(task.nodeId);
    // The node left the swarm: the global orchestrator shuts the task down.
    if (!node) return;
    this.pipeline.setTask(task);
    if (this.pipeline.process(node)) this.assign(task, node, MESSAGE_PREASSIGNED_CONFIRMED);
    else this.leavePending(task, this.pipeline.explain());
  }

  private scheduleGroup(group: Task[]): void {
    // Every task in a group has the same spec, so one stands for all in the filters.
    const sample = group[0]!;
    this.pipeline.setTask(sample);
    const key = failureKey(sample);
    const compare: NodeCompare = (a, b) => {
      const fa = a.recentFailures.get(key) ?? 0;
      const fb = b.recentFailures.get(key) ?? 0;
      if ((fa >= MAX_RECENT_FAILURES || fb >= MAX_RECENT_FAILURES) && fa !== fb) return fa - fb;
      return a.serviceTasks(sample.serviceId) - b.serviceTasks(sample.serviceId) || a.activeTasks - b.activeTasks || byId(a, b);
    };
    const tree = this.buildTree(sample);
    const queue = [...group];
    this.scheduleOnSubtree(queue.length, queue, tree, compare);
    if (queue.length === 0) return;
    // Why no node can take the rest now, counted over every node once (Swarm reports the counts
    // left over from its last attempts, which can count a node twice or miss one).
    this.pipeline.setTask(sample);
    for (const node of this.nodes) this.pipeline.process(node);
    const explanation = this.pipeline.explain();
    const err = explanation === '' ? 'no suitable node' : `no suitable node (${explanation})`;
    for (const task of queue) this.leavePending(task, err);
  }

  /** The nodes that pass the filters, arranged by the values of each spread preference. */
  private buildTree(task: Task): DecisionTree {
    const root: DecisionTree = { tasks: 0, next: null, nodes: [], visited: false };
    for (const node of this.nodes) {
      let tree = root;
      for (const pref of task.spec.placement.preferences) {
        const value = spreadValue(pref.spread, node);
        if (value === null) continue;
        // Counted on every node, eligible or not, so branches balance by what already runs there.
        tree.tasks += node.serviceTasks(task.serviceId);
        tree.next ??= new Map();
        let child = tree.next.get(value);
        if (!child) {
          child = { tasks: 0, next: null, nodes: [], visited: false };
          tree.next.set(value, child);
        }
        tree = child;
      }
      tree.tasks += node.serviceTasks(task.serviceId);
      if (this.pipeline.process(node)) tree.nodes.push(node);
    }
    return root;
  }

  /** Swarm's scheduleNTasksOnSubtree: split n tasks so the branches even out, then fill the leaves. */
  private scheduleOnSubtree(n: number, queue: Task[], tree: DecisionTree, compare: NodeCompare): number {
    if (tree.next === null) {
      // On a second visit the leaf's nodes may have filled up: check them again.
      const nodes = tree.visited ? tree.nodes.filter((node) => this.pipeline.process(node)) : tree.nodes;
      tree.visited = true;
      tree.nodes = nodes;
      if (nodes.length === 0) return 0;
      return this.scheduleOnNodes(n, queue, [...nodes].sort(compare), compare);
    }
    const branches = [...tree.next.keys()].sort().map((k) => tree.next!.get(k)!);
    let scheduled = 0;
    let tasksInUsableBranches = tree.tasks;
    const noRoom = new Set<DecisionTree>();
    let converging = true;
    while (scheduled !== n && noRoom.size !== branches.length && converging) {
      const usable = branches.length - noRoom.size;
      const desiredPerBranch = Math.floor((tasksInUsableBranches + n - scheduled) / usable);
      let remainder = (tasksInUsableBranches + n - scheduled) % usable;
      converging = false;
      for (const subtree of branches) {
        if (noRoom.has(subtree)) continue;
        if (subtree.tasks < desiredPerBranch || (subtree.tasks === desiredPerBranch && remainder > 0)) {
          converging = true;
          let toAssign = desiredPerBranch - subtree.tasks;
          if (remainder > 0) toAssign++;
          const done = this.scheduleOnSubtree(toAssign, queue, subtree, compare);
          if (done < toAssign) {
            noRoom.add(subtree);
            tasksInUsableBranches -= subtree.tasks;
          } else if (remainder > 0) remainder--;
          // subtree.tasks stays as counted before this pass, as in Swarm: tasksInUsableBranches
          // doesn't count this pass's tasks either, so the next round's share stays right.
          scheduled += done;
        }
      }
    }
    return scheduled;
  }

  /**
   * Places up to n tasks on a leaf's nodes, each on the best node that still passes the filters.
   * Swarm walks a sorted list once and can leave a node behind (it never goes back to a node it
   * passed until it wraps around); choosing the best node for every task keeps the spread even.
   */
  private scheduleOnNodes(n: number, queue: Task[], nodes: NodeInfo[], compare: NodeCompare): number {
    let scheduled = 0;
    let candidates = nodes;
    while (scheduled < n && queue.length > 0) {
      if (scheduled > 0) candidates = candidates.filter((node) => this.pipeline.process(node));
      let best: NodeInfo | undefined;
      for (const node of candidates) if (best === undefined || compare(node, best) < 0) best = node;
      if (best === undefined) break;
      this.assign(queue.shift()!, best, MESSAGE_ASSIGNED);
      scheduled++;
    }
    return scheduled;
  }
}

/** The node's value for a spread preference ('' when it has none), or null for a preference Swarm ignores. */
function spreadValue(descriptor: string, node: NodeInfo): string | null {
  const lower = descriptor.toLowerCase();
  if (lower.length > NODE_LABEL_PREFIX.length && lower.startsWith(NODE_LABEL_PREFIX)) return node.node.labels[descriptor.slice(NODE_LABEL_PREFIX.length)] ?? '';
  if (lower.length > ENGINE_LABEL_PREFIX.length && lower.startsWith(ENGINE_LABEL_PREFIX)) return node.node.engineLabels[descriptor.slice(ENGINE_LABEL_PREFIX.length)] ?? '';
  return null;
}
