// The control API for services and tasks (`skep service …`), on any manager: specs checked with
// Swarm's rules and texts (shared/service-schema.ts), reads from the store after a read barrier,
// writes through the proposer. The leader's services loop turns the writes into tasks.
import { skepError } from '../../../shared/errors.js';
import { parseServiceSpec, type ServiceSpecRequest } from '../../../shared/service-schema.js';
import type { Service, ServiceListEntry, ServiceSpec, Task, TaskFilter } from '../../../shared/services.js';
import type { Proposer } from '../state/proposer.js';
import { servicesOf, tasksOf, type NodeRecord, type SwarmState } from '../state/store.js';

export interface ServiceControlDeps {
  readonly state: () => SwarmState;
  readonly proposer: Proposer;
  readonly readBarrier: () => Promise<void>;
  readonly newId: () => string;
  readonly now?: () => number;
}

export interface ServiceUpdateOptions {
  /** `service rollback`: the previous spec comes back. */
  readonly rollback?: boolean;
}

export class ServiceControl {
  private readonly now: () => number;

  constructor(private readonly deps: ServiceControlDeps) {
    this.now = deps.now ?? Date.now;
  }

  async create(input: ServiceSpecRequest): Promise<{ id: string }> {
    const spec = checked(input);
    if (Object.values(servicesOf(this.deps.state())).some((s) => s.spec.name === spec.name)) throw skepError('SERVICE_NAME_CONFLICT');
    const id = this.deps.newId();
    const at = new Date(this.now()).toISOString();
    await this.propose({ op: 'service.create', service: { id, createdAt: at, updatedAt: at, spec } });
    return { id };
  }

  async list(): Promise<ServiceListEntry[]> {
    await this.deps.readBarrier().catch(() => undefined);
    const state = this.deps.state();
    const tasks = Object.values(tasksOf(state));
    return Object.values(servicesOf(state))
      .sort((a, b) => a.spec.name.localeCompare(b.spec.name))
      .map((service) => {
        const own = tasks.filter((t) => t.serviceId === service.id);
        const running = own.filter((t) => t.desiredState === 'running' && t.status.state === 'running').length;
        const desired = service.spec.mode.kind === 'replicated' ? service.spec.mode.replicas : own.filter((t) => t.desiredState === 'running').length;
        return { service, running, desired };
      });
  }

  async inspect(ref: string): Promise<Service> {
    await this.deps.readBarrier().catch(() => undefined);
    return this.resolve(ref);
  }

  async update(ref: string, input: ServiceSpecRequest, options: ServiceUpdateOptions = {}): Promise<void> {
    const service = this.resolve(ref);
    const at = new Date(this.now()).toISOString();
    if (options.rollback) {
      if (!service.previousSpec) throw skepError('SERVICE_NO_PREVIOUS_SPEC', service.id);
      await this.propose({ op: 'service.update', id: service.id, at, spec: service.previousSpec, rollback: true, updateStatus: { state: 'rollback_started', message: 'manually requested rollback', startedAt: at } });
      return;
    }
    const spec = checked(input);
    if (spec.name !== service.spec.name && Object.values(servicesOf(this.deps.state())).some((s) => s.spec.name === spec.name)) throw skepError('SERVICE_NAME_CONFLICT');
    await this.propose({ op: 'service.update', id: service.id, at, spec });
  }

  async scale(ref: string, replicas: number): Promise<void> {
    const service = this.resolve(ref);
    if (service.spec.mode.kind !== 'replicated') throw skepError('SERVICE_SCALE_NOT_REPLICATED');
    const spec: ServiceSpec = { ...service.spec, mode: { kind: 'replicated', replicas } };
    checked(spec);
    await this.propose({ op: 'service.update', id: service.id, at: new Date(this.now()).toISOString(), spec });
  }

  async remove(ref: string): Promise<string> {
    const service = this.resolve(ref);
    await this.propose({ op: 'service.remove', id: service.id });
    return service.id;
  }

  async tasks(filter: TaskFilter = {}): Promise<Task[]> {
    await this.deps.readBarrier().catch(() => undefined);
    const state = this.deps.state();
    const serviceIds = filter.services ? new Set(filter.services.map((ref) => this.resolve(ref).id)) : undefined;
    const nodeIds = filter.nodes ? new Set(filter.nodes.map((ref) => resolveNode(state, ref).id)) : undefined;
    return Object.values(tasksOf(state))
      .filter((t) => !serviceIds || serviceIds.has(t.serviceId))
      .filter((t) => !nodeIds || nodeIds.has(t.nodeId))
      .filter((t) => !filter.desiredState || matchesDesired(t, filter.desiredState))
      .sort((a, b) => a.serviceName.localeCompare(b.serviceName) || a.slot - b.slot || a.nodeId.localeCompare(b.nodeId) || b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
  }

  /** By ID, name, or unique ID prefix — as Docker resolves service names. */
  resolve(ref: string): Service {
    const services = Object.values(servicesOf(this.deps.state()));
    const exact = services.find((s) => s.id === ref) ?? services.find((s) => s.spec.name === ref);
    if (exact) return exact;
    const matches = ref === '' ? [] : services.filter((s) => s.id.startsWith(ref));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw skepError('SERVICE_AMBIGUOUS', ref, matches.length);
    throw skepError('SERVICE_NOT_FOUND', ref);
  }

  private async propose(command: Parameters<Proposer['propose']>[0]): Promise<void> {
    try {
      await this.deps.proposer.propose(command);
    } catch (error) {
      // The store refuses a name taken by a write that committed in between.
      if (error instanceof Error && / already exists$/.test(error.message)) throw skepError('SERVICE_NAME_CONFLICT');
      throw error;
    }
  }
}

function checked(input: unknown): ServiceSpec {
  const parsed = parseServiceSpec(input);
  if (!parsed.ok) throw parsed.error;
  return parsed.spec;
}

function matchesDesired(task: Task, wanted: NonNullable<TaskFilter['desiredState']>): boolean {
  if (wanted === 'running') return task.desiredState === 'running' || task.desiredState === 'ready';
  if (wanted === 'accepted') return task.desiredState === 'accepted';
  return task.desiredState === 'shutdown' || task.desiredState === 'remove';
}

function resolveNode(state: SwarmState, ref: string): NodeRecord {
  const nodes = Object.values(state.nodes);
  const exact = nodes.find((n) => n.id === ref) ?? nodes.find((n) => n.description.hostname === ref);
  if (exact) return exact;
  const matches = nodes.filter((n) => n.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw skepError('NODE_AMBIGUOUS', ref, matches.length);
  throw skepError('NODE_NOT_FOUND', ref);
}
