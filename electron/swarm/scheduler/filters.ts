// The scheduler's filters, in Swarm's order (manager/scheduler/filter.go). Each decides whether a task
// can run on a node and explains a failure in Swarm's words, so an unschedulable task says why.
import { compileConstraints, nodeMatchesConstraints, type Constraint } from '../../../shared/constraints.js';
import type { Platform, Task } from '../../../shared/services.js';
import { hostPortKey, type NodeInfo } from './node-info.js';

export interface Filter {
  readonly name: string;
  /** Prepares the filter for a task; false when it has nothing to check for this task. */
  setTask(task: Task): boolean;
  check(node: NodeInfo): boolean;
  explain(nodes: number): string;
}

function onNodes(what: string, nodes: number): string {
  return nodes === 1 ? `${what} on 1 node` : `${what} on ${nodes} nodes`;
}

/** The node is Ready and its availability Active. */
export class ReadyFilter implements Filter {
  readonly name = 'ready';
  setTask(): boolean {
    return true;
  }
  check(node: NodeInfo): boolean {
    return node.node.state === 'ready' && node.node.availability === 'active';
  }
  explain(nodes: number): string {
    return nodes === 1 ? '1 node not available for new tasks' : `${nodes} nodes not available for new tasks`;
  }
}

/** The task's reservations fit in what the node has left. */
export class ResourceFilter implements Filter {
  readonly name = 'resources';
  private nanoCpus = 0;
  private memoryBytes = 0;
  setTask(task: Task): boolean {
    const r = task.spec.resources.reservations;
    this.nanoCpus = r.nanoCpus;
    this.memoryBytes = r.memoryBytes;
    return r.nanoCpus !== 0 || r.memoryBytes !== 0;
  }
  check(node: NodeInfo): boolean {
    return this.nanoCpus <= node.availableNanoCpus && this.memoryBytes <= node.availableMemoryBytes;
  }
  explain(nodes: number): string {
    return onNodes('insufficient resources', nodes);
  }
}

/** The node satisfies the placement constraints. */
export class ConstraintFilter implements Filter {
  readonly name = 'constraints';
  private constraints: Constraint[] = [];
  setTask(task: Task): boolean {
    if (task.spec.placement.constraints.length === 0) return false;
    // Constraints were validated by the control API; one that no longer parses disables the filter, as in Swarm.
    const compiled = compileConstraints(task.spec.placement.constraints);
    if (compiled === null) return false;
    this.constraints = compiled;
    return true;
  }
  check(node: NodeInfo): boolean {
    return nodeMatchesConstraints(this.constraints, node.node);
  }
  explain(nodes: number): string {
    return onNodes('scheduling constraints not satisfied', nodes);
  }
}

function normalizeArch(arch: string): string {
  if (arch === 'x86_64') return 'amd64';
  if (arch === 'aarch64') return 'arm64';
  return arch;
}

/** The node's OS and architecture are among the image's platforms. */
export class PlatformFilter implements Filter {
  readonly name = 'platform';
  private platforms: readonly Platform[] = [];
  setTask(task: Task): boolean {
    this.platforms = task.spec.placement.platforms;
    return this.platforms.length > 0;
  }
  check(node: NodeInfo): boolean {
    const os = node.node.platform.os;
    const arch = normalizeArch(node.node.platform.architecture);
    return this.platforms.some((p) => (p.architecture === '' || normalizeArch(p.architecture) === arch) && (p.os === '' || p.os === os));
  }
  explain(nodes: number): string {
    return onNodes('unsupported platform', nodes);
  }
}

/** No task on the node already publishes the same host-mode port. */
export class HostPortFilter implements Filter {
  readonly name = 'host-port';
  private ports: string[] = [];
  setTask(task: Task): boolean {
    this.ports = task.endpoint.ports.filter((p) => p.publishMode === 'host' && p.publishedPort !== 0).map((p) => hostPortKey(p.protocol, p.publishedPort));
    return this.ports.length > 0;
  }
  check(node: NodeInfo): boolean {
    return this.ports.every((p) => !node.usedHostPorts.has(p));
  }
  explain(nodes: number): string {
    return onNodes('host-mode port already in use', nodes);
  }
}

/** Fewer active tasks of the service on the node than `--replicas-max-per-node`. */
export class MaxReplicasFilter implements Filter {
  readonly name = 'max-replicas';
  private serviceId = '';
  private max = 0;
  setTask(task: Task): boolean {
    this.serviceId = task.serviceId;
    this.max = task.spec.placement.maxReplicas;
    return this.max > 0;
  }
  check(node: NodeInfo): boolean {
    return node.serviceTasks(this.serviceId) < this.max;
  }
  explain(): string {
    return 'max replicas per node limit exceed';
  }
}

/** Swarm's default filters, readiness first. */
export function defaultFilters(): Filter[] {
  return [new ReadyFilter(), new ResourceFilter(), new ConstraintFilter(), new PlatformFilter(), new HostPortFilter(), new MaxReplicasFilter()];
}
