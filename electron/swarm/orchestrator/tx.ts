// The orchestrator's working copy of the store for one pass: every step reads what earlier steps
// decided (as Swarm's components see each other's writes in one store), and at the end the
// differences become the list of store changes for one proposal.
import type { PlacementNode } from '../../../shared/constraints.js';
import type { Service, ServiceSpec, Task, TaskState, TaskStatus, UpdateStatus } from '../../../shared/services.js';

export interface OrchestratorState {
  readonly services: Iterable<Service>;
  readonly tasks: Iterable<Task>;
  readonly nodes: Iterable<PlacementNode>;
}

/** What the store must do, in order; the lead proposes the whole list as one Raft entry. */
export type OrchestratorChange =
  | { readonly op: 'task.create'; readonly task: Task }
  | { readonly op: 'task.desiredState'; readonly taskId: string; readonly desiredState: TaskState }
  /** Only the constraint enforcer writes a status: it rejects a task its node no longer fits. */
  | { readonly op: 'task.status'; readonly taskId: string; readonly status: TaskStatus }
  | { readonly op: 'task.delete'; readonly taskId: string }
  | { readonly op: 'service.updateStatus'; readonly serviceId: string; readonly updateStatus: UpdateStatus }
  /** An automatic rollback: spec ← previousSpec (and its version), previousSpec cleared, with the new update status. */
  | { readonly op: 'service.rollback'; readonly serviceId: string; readonly spec: ServiceSpec; readonly specVersion: number; readonly updateStatus: UpdateStatus };

export class Tx {
  readonly now: number;
  readonly timestamp: string;
  readonly nodes = new Map<string, PlacementNode>();
  readonly services = new Map<string, Service>();
  private readonly original = new Map<string, Task>();
  private readonly tasks = new Map<string, Task>();
  private readonly byService = new Map<string, Set<string>>();
  private readonly created = new Set<string>();
  private readonly deleted = new Set<string>();
  private readonly serviceChanges: OrchestratorChange[] = [];
  private wakeAt: number | null = null;

  constructor(
    state: OrchestratorState,
    now: number,
    private readonly newId: () => string,
  ) {
    this.now = now;
    this.timestamp = new Date(now).toISOString();
    for (const n of state.nodes) this.nodes.set(n.id, n);
    for (const s of state.services) this.services.set(s.id, s);
    for (const t of state.tasks) {
      this.original.set(t.id, t);
      this.put(t);
    }
  }

  private put(task: Task): void {
    this.tasks.set(task.id, task);
    let set = this.byService.get(task.serviceId);
    if (!set) {
      set = new Set();
      this.byService.set(task.serviceId, set);
    }
    set.add(task.id);
  }

  id(): string {
    return this.newId();
  }

  task(id: string): Task | undefined {
    return this.tasks.get(id);
  }

  /** Every task, in ID order so a pass decides the same way on every run. */
  allTasks(): Task[] {
    return [...this.tasks.values()].sort(byId);
  }

  serviceTasks(serviceId: string): Task[] {
    const ids = this.byService.get(serviceId);
    if (!ids) return [];
    return [...ids].map((id) => this.tasks.get(id)!).sort(byId);
  }

  sortedServices(): Service[] {
    return [...this.services.values()].sort(byId);
  }

  createTask(task: Task): void {
    this.created.add(task.id);
    this.put(task);
  }

  setDesiredState(task: Task, desiredState: TaskState): Task {
    const updated = { ...this.tasks.get(task.id)!, desiredState };
    this.tasks.set(task.id, updated);
    return updated;
  }

  setStatus(task: Task, status: TaskStatus): Task {
    const updated = { ...this.tasks.get(task.id)!, status };
    this.tasks.set(task.id, updated);
    return updated;
  }

  deleteTask(task: Task): void {
    this.tasks.delete(task.id);
    this.byService.get(task.serviceId)?.delete(task.id);
    if (this.created.delete(task.id)) return;
    this.deleted.add(task.id);
  }

  setUpdateStatus(service: Service, updateStatus: UpdateStatus): Service {
    const updated = { ...service, updateStatus };
    this.services.set(service.id, updated);
    this.serviceChanges.push({ op: 'service.updateStatus', serviceId: service.id, updateStatus });
    return updated;
  }

  rollback(service: Service, updateStatus: UpdateStatus): Service {
    const spec = service.previousSpec!;
    const specVersion = service.previousSpecVersion ?? service.specVersion;
    const updated: Service = { ...service, spec, specVersion, previousSpec: undefined, previousSpecVersion: undefined, updateStatus };
    this.services.set(service.id, updated);
    this.serviceChanges.push({ op: 'service.rollback', serviceId: service.id, spec, specVersion, updateStatus });
    return updated;
  }

  /** Asks to be run again at `at` (ms since the epoch); the earliest request wins. */
  wake(at: number): void {
    if (this.wakeAt === null || at < this.wakeAt) this.wakeAt = at;
  }

  get nextRunAt(): number | null {
    return this.wakeAt;
  }

  /** The pass's decisions as store changes: service changes, new tasks, changed tasks, deleted tasks. */
  changes(): OrchestratorChange[] {
    const out: OrchestratorChange[] = [...this.serviceChanges];
    for (const id of [...this.created].sort()) out.push({ op: 'task.create', task: this.tasks.get(id)! });
    for (const [id, before] of [...this.original].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const after = this.tasks.get(id);
      if (!after) continue;
      if (after.status !== before.status) out.push({ op: 'task.status', taskId: id, status: after.status });
      if (after.desiredState !== before.desiredState) out.push({ op: 'task.desiredState', taskId: id, desiredState: after.desiredState });
    }
    for (const id of [...this.deleted].sort()) out.push({ op: 'task.delete', taskId: id });
    return out;
  }
}

function byId<T extends { readonly id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
