// Plain-data fixtures for the scheduler and orchestrator tests, and a small in-memory swarm that
// applies the orchestrator's and the scheduler's decisions and plays the agents (a named stand-in for
// the dispatcher, the store and real executors, which the lab tests cover).
import type { PlacementNode } from '../../shared/constraints.js';
import { serviceSpecSchema, type ServiceSpecInput } from '../../shared/service-schema.js';
import { advanceTaskStatus, rollbackServiceSpec, taskStateRank, updateServiceSpec, type Service, type ServiceSpec, type Task, type TaskState, type TaskStatus } from '../../shared/services.js';
import { orchestrate, type OrchestratorChange } from '../../electron/swarm/orchestrator/index.js';
import { schedule, type SchedulingResult } from '../../electron/swarm/scheduler/index.js';
import { seededRandom } from '../../electron/raft/core/random.js';

export const T0 = Date.parse('2026-01-01T00:00:00.000Z');
export const iso = (ms: number): string => new Date(ms).toISOString();

export function node(id: string, overrides: Partial<PlacementNode> = {}): PlacementNode {
  return {
    id,
    hostname: `host-${id}`,
    role: 'worker',
    availability: 'active',
    state: 'ready',
    addr: '10.0.0.1',
    labels: {},
    engineLabels: {},
    platform: { os: 'linux', architecture: 'x86_64' },
    resources: { nanoCpus: 4e9, memoryBytes: 8 * 1024 ** 3 },
    ...overrides,
  };
}

export function spec(input: Partial<ServiceSpecInput> & { image?: string } = {}): ServiceSpec {
  const { image, ...rest } = input;
  return serviceSpecSchema.parse({ name: 'web', taskTemplate: { container: { image: image ?? 'busybox:latest' } }, ...rest });
}

export function service(id: string, serviceSpec: ServiceSpec, overrides: Partial<Service> = {}): Service {
  return { id, version: 1, createdAt: iso(T0), updatedAt: iso(T0), spec: serviceSpec, specVersion: 1, ...overrides };
}

let taskCounter = 0;

export function task(svc: Service, overrides: Partial<Task> = {}): Task {
  const id = overrides.id ?? `t${String(++taskCounter).padStart(5, '0')}`;
  return {
    id,
    version: 1,
    createdAt: iso(T0),
    updatedAt: iso(T0),
    serviceId: svc.id,
    serviceName: svc.spec.name,
    slot: 1,
    nodeId: '',
    spec: svc.spec.taskTemplate,
    specVersion: svc.specVersion,
    endpoint: svc.spec.endpointSpec,
    desiredState: 'running',
    status: { state: 'new', timestamp: iso(T0), message: 'created', err: '' },
    origin: 'service',
    ...overrides,
  };
}

export function status(state: TaskState, at: number, extra: Partial<TaskStatus> = {}): TaskStatus {
  return { state, timestamp: iso(at), message: state, err: '', ...extra };
}

/** A seeded PRNG (Raft's mulberry32), so property checks replay from their seed. */
export const seeded = seededRandom;

export interface SimAgentRules {
  /** Images whose containers exit with this code right after starting. */
  readonly failingImages?: ReadonlyMap<string, number>;
}

/**
 * An in-memory swarm: the store (services, tasks, nodes), the orchestrator and the scheduler applied
 * in turn, and agents that move their tasks one state per step, as the dispatcher would report them.
 */
export class SimSwarm {
  readonly services = new Map<string, Service>();
  readonly tasks = new Map<string, Task>();
  readonly nodes = new Map<string, PlacementNode>();
  now = T0;
  proposals = 0;
  private nextId = 0;
  private nextVersion = 10;

  constructor(private readonly rules: SimAgentRules = {}) {}

  newId = (): string => `task${String(++this.nextId).padStart(6, '0')}`;

  addNode(n: PlacementNode): void {
    this.nodes.set(n.id, n);
  }

  setNode(id: string, change: Partial<PlacementNode>): void {
    this.nodes.set(id, { ...this.nodes.get(id)!, ...change });
  }

  createService(id: string, serviceSpec: ServiceSpec): Service {
    const version = ++this.nextVersion;
    const s: Service = { id, version, createdAt: iso(this.now), updatedAt: iso(this.now), spec: serviceSpec, specVersion: version };
    this.services.set(id, s);
    return s;
  }

  /** What the control API does on `service update` (shared/services.ts updateServiceSpec). */
  updateService(id: string, serviceSpec: ServiceSpec): void {
    this.services.set(id, updateServiceSpec(this.services.get(id)!, serviceSpec, ++this.nextVersion, iso(this.now)));
  }

  /** What the control API does on `service rollback`. */
  rollbackService(id: string): void {
    this.services.set(id, rollbackServiceSpec(this.services.get(id)!, ++this.nextVersion, iso(this.now)));
  }

  removeService(id: string): void {
    this.services.delete(id);
  }

  serviceTasks(id: string): Task[] {
    return [...this.tasks.values()].filter((t) => t.serviceId === id);
  }

  /** Tasks the service wants running that run (desired RUNNING, observed RUNNING). */
  running(id: string): Task[] {
    return this.serviceTasks(id).filter((t) => t.desiredState === 'running' && t.status.state === 'running');
  }

  orchestrate(): { changes: readonly OrchestratorChange[]; nextRunAt: number | null } {
    const result = orchestrate({ services: this.services.values(), tasks: this.tasks.values(), nodes: this.nodes.values() }, { now: this.now, newId: this.newId });
    if (result.changes.length > 0) this.proposals++;
    this.apply(result.changes);
    return result;
  }

  schedule(): SchedulingResult {
    const result = schedule({ nodes: [...this.nodes.values()], tasks: this.tasks.values(), now: this.now });
    if (result.updates.length > 0) this.proposals++;
    for (const u of result.updates) {
      const t = this.tasks.get(u.taskId)!;
      this.tasks.set(t.id, { ...t, nodeId: u.nodeId, status: u.status, version: ++this.nextVersion });
    }
    return result;
  }

  apply(changes: readonly OrchestratorChange[]): void {
    for (const c of changes) {
      switch (c.op) {
        case 'task.create':
          this.tasks.set(c.task.id, { ...c.task, version: ++this.nextVersion });
          break;
        case 'task.desiredState': {
          const t = this.tasks.get(c.taskId)!;
          this.tasks.set(t.id, { ...t, desiredState: c.desiredState, version: ++this.nextVersion });
          break;
        }
        case 'task.status': {
          const t = this.tasks.get(c.taskId)!;
          this.tasks.set(t.id, { ...t, status: c.status, version: ++this.nextVersion });
          break;
        }
        case 'task.delete':
          this.tasks.delete(c.taskId);
          break;
        case 'service.updateStatus': {
          const s = this.services.get(c.serviceId)!;
          this.services.set(s.id, { ...s, updateStatus: c.updateStatus, version: ++this.nextVersion });
          break;
        }
        case 'service.rollback': {
          const s = this.services.get(c.serviceId)!;
          this.services.set(s.id, { ...s, spec: c.spec, specVersion: c.specVersion, previousSpec: undefined, previousSpecVersion: undefined, updateStatus: c.updateStatus, version: ++this.nextVersion });
          break;
        }
      }
    }
  }

  report(taskId: string, next: TaskStatus): void {
    const t = this.tasks.get(taskId)!;
    const updated = advanceTaskStatus(t, next);
    if (updated) this.tasks.set(taskId, { ...updated, version: ++this.nextVersion });
  }

  /** Each agent on a Ready node moves each of its tasks one step, as Swarm's executor would. */
  agentsStep(): void {
    for (const t of [...this.tasks.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const n = this.nodes.get(t.nodeId);
      if (!n || n.state !== 'ready') continue;
      const state = taskStateRank(t.status.state);
      if (state < taskStateRank('assigned') || state > taskStateRank('running')) continue;
      if (taskStateRank(t.desiredState) > taskStateRank('running')) {
        this.report(t.id, status('shutdown', this.now, { message: 'shutdown' }));
        continue;
      }
      if (t.status.state === 'assigned') this.report(t.id, status('preparing', this.now));
      else if (t.status.state === 'preparing') this.report(t.id, status('ready', this.now));
      else if (t.status.state === 'ready' && t.desiredState === 'running') this.report(t.id, status('running', this.now, { message: 'started' }));
      else if (t.status.state === 'running') {
        const exitCode = this.rules.failingImages?.get(t.spec.container.image);
        if (exitCode !== undefined) this.report(t.id, status('failed', this.now, { message: 'started', err: `task: non-zero exit (${exitCode})`, containerStatus: { containerId: `c-${t.id}`, pid: 0, exitCode } }));
      }
    }
  }

  /** One round: orchestrator, scheduler, agents; then the clock moves on by stepMs. */
  step(stepMs = 1000): void {
    this.orchestrate();
    this.schedule();
    this.agentsStep();
    this.now += stepMs;
  }

  /** Steps until `done` holds; throws with the state if it never does (the loop didn't converge). */
  runUntil(done: () => boolean, maxSteps = 500, stepMs = 1000, onStep?: () => void): number {
    for (let i = 0; i < maxSteps; i++) {
      if (done()) return i;
      this.step(stepMs);
      onStep?.();
    }
    if (done()) return maxSteps;
    throw new Error(`did not converge in ${maxSteps} steps: ${JSON.stringify([...this.services.values()].map((s) => ({ id: s.id, updateStatus: s.updateStatus })))}`);
  }
}
