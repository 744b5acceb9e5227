// A node as the scheduler sees it during one pass: what it is (PlacementNode) and what the tasks on it
// take (reservations, host-mode ports, active tasks per service). Updated as the pass assigns tasks, so
// later decisions in the same batch see earlier ones.
import type { PlacementNode } from '../../../shared/constraints.js';
import { taskStateRank, type Task } from '../../../shared/services.js';

const COMPLETE = taskStateRank('complete');

export function hostPortKey(protocol: string, port: number): string {
  return `${protocol}/${port}`;
}

export class NodeInfo {
  /** CPU and memory not reserved by the tasks on this node. */
  availableNanoCpus: number;
  availableMemoryBytes: number;
  /** Tasks whose desired state is at most COMPLETE (Swarm's ActiveTasksCount). */
  activeTasks = 0;
  readonly activeTasksByService = new Map<string, number>();
  readonly usedHostPorts = new Set<string>();
  /** Recent failures of a service's current spec on this node: the scheduler avoids a node where it keeps failing. */
  readonly recentFailures = new Map<string, number>();
  private readonly taskIds = new Set<string>();

  constructor(readonly node: PlacementNode) {
    this.availableNanoCpus = node.resources.nanoCpus;
    this.availableMemoryBytes = node.resources.memoryBytes;
  }

  get id(): string {
    return this.node.id;
  }

  serviceTasks(serviceId: string): number {
    return this.activeTasksByService.get(serviceId) ?? 0;
  }

  /** Counts a task that runs (or is about to run) here. */
  addTask(task: Task): void {
    if (this.taskIds.has(task.id)) return;
    this.taskIds.add(task.id);
    const reservations = task.spec.resources.reservations;
    this.availableNanoCpus -= reservations.nanoCpus;
    this.availableMemoryBytes -= reservations.memoryBytes;
    for (const port of task.endpoint.ports) {
      if (port.publishMode === 'host' && port.publishedPort !== 0) this.usedHostPorts.add(hostPortKey(port.protocol, port.publishedPort));
    }
    if (taskStateRank(task.desiredState) <= COMPLETE) {
      this.activeTasks++;
      this.activeTasksByService.set(task.serviceId, this.serviceTasks(task.serviceId) + 1);
    }
  }

  recordFailure(serviceKey: string): void {
    this.recentFailures.set(serviceKey, (this.recentFailures.get(serviceKey) ?? 0) + 1);
  }
}
