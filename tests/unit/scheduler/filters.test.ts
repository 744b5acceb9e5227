// Each filter, table-driven: what it passes, what it refuses, and Swarm's words for a refusal.
import { describe, expect, it } from 'vitest';
import type { PlacementNode } from '../../../shared/constraints.js';
import type { Task } from '../../../shared/services.js';
import { ConstraintFilter, HostPortFilter, MaxReplicasFilter, PlatformFilter, ReadyFilter, ResourceFilter, type Filter } from '../../../electron/swarm/scheduler/filters.js';
import { NodeInfo } from '../../../electron/swarm/scheduler/node-info.js';
import { Pipeline } from '../../../electron/swarm/scheduler/pipeline.js';
import { node, service, spec, task } from '../../support/swarm-services.js';

const svc = service('s1', spec());

function withTemplate(change: (t: Task['spec']) => Task['spec'], extra: Partial<Task> = {}): Task {
  return task(svc, { spec: change(svc.spec.taskTemplate), ...extra });
}

function info(n: PlacementNode, tasks: Task[] = []): NodeInfo {
  const i = new NodeInfo(n);
  for (const t of tasks) i.addTask(t);
  return i;
}

const reserve = (nanoCpus: number, memoryBytes: number): Task =>
  withTemplate((t) => ({ ...t, resources: { limits: t.resources.limits, reservations: { nanoCpus, memoryBytes } } }));
const constrained = (...constraints: string[]): Task => withTemplate((t) => ({ ...t, placement: { ...t.placement, constraints } }));
const hostPort = (publishedPort: number, protocol: 'tcp' | 'udp' = 'tcp'): Task =>
  task(svc, { endpoint: { ports: [{ protocol, targetPort: 80, publishedPort, publishMode: 'host' }] } });

interface Row {
  readonly name: string;
  readonly filter: () => Filter;
  readonly task: Task;
  readonly node: NodeInfo;
  readonly enabled: boolean;
  readonly passes: boolean;
}

const running = (t: Task, nodeId: string): Task => ({ ...t, nodeId, status: { ...t.status, state: 'running' } });

const rows: Row[] = [
  { name: 'ready: ready and active', filter: () => new ReadyFilter(), task: task(svc), node: info(node('a')), enabled: true, passes: true },
  { name: 'ready: down', filter: () => new ReadyFilter(), task: task(svc), node: info(node('a', { state: 'down' })), enabled: true, passes: false },
  { name: 'ready: paused', filter: () => new ReadyFilter(), task: task(svc), node: info(node('a', { availability: 'pause' })), enabled: true, passes: false },
  { name: 'ready: drained', filter: () => new ReadyFilter(), task: task(svc), node: info(node('a', { availability: 'drain' })), enabled: true, passes: false },
  { name: 'resources: no reservations', filter: () => new ResourceFilter(), task: task(svc), node: info(node('a')), enabled: false, passes: true },
  { name: 'resources: fits', filter: () => new ResourceFilter(), task: reserve(1e9, 1024 ** 3), node: info(node('a')), enabled: true, passes: true },
  { name: 'resources: too much memory', filter: () => new ResourceFilter(), task: reserve(0, 9 * 1024 ** 3), node: info(node('a')), enabled: true, passes: false },
  {
    name: 'resources: CPU taken by other tasks',
    filter: () => new ResourceFilter(),
    task: reserve(2e9, 0),
    node: info(node('a'), [running(reserve(3e9, 0), 'a')]),
    enabled: true,
    passes: false,
  },
  { name: 'constraints: none', filter: () => new ConstraintFilter(), task: task(svc), node: info(node('a')), enabled: false, passes: true },
  { name: 'constraints: node.role==worker', filter: () => new ConstraintFilter(), task: constrained('node.role==worker'), node: info(node('a')), enabled: true, passes: true },
  { name: 'constraints: node.role==manager', filter: () => new ConstraintFilter(), task: constrained('node.role==manager'), node: info(node('a')), enabled: true, passes: false },
  { name: 'platform: none required', filter: () => new PlatformFilter(), task: task(svc), node: info(node('a')), enabled: false, passes: true },
  {
    name: 'platform: amd64 image on x86_64 node',
    filter: () => new PlatformFilter(),
    task: withTemplate((t) => ({ ...t, placement: { ...t.placement, platforms: [{ os: 'linux', architecture: 'amd64' }] } })),
    node: info(node('a')),
    enabled: true,
    passes: true,
  },
  {
    name: 'platform: arm64 image on x86_64 node',
    filter: () => new PlatformFilter(),
    task: withTemplate((t) => ({ ...t, placement: { ...t.placement, platforms: [{ os: 'linux', architecture: 'arm64' }] } })),
    node: info(node('a')),
    enabled: true,
    passes: false,
  },
  {
    name: 'platform: arm64 image on aarch64 node',
    filter: () => new PlatformFilter(),
    task: withTemplate((t) => ({ ...t, placement: { ...t.placement, platforms: [{ os: 'linux', architecture: 'arm64' }] } })),
    node: info(node('a', { platform: { os: 'linux', architecture: 'aarch64' } })),
    enabled: true,
    passes: true,
  },
  { name: 'host port: none published', filter: () => new HostPortFilter(), task: task(svc), node: info(node('a')), enabled: false, passes: true },
  { name: 'host port: free', filter: () => new HostPortFilter(), task: hostPort(8080), node: info(node('a'), [running(hostPort(9090), 'a')]), enabled: true, passes: true },
  { name: 'host port: in use', filter: () => new HostPortFilter(), task: hostPort(8080), node: info(node('a'), [running(hostPort(8080), 'a')]), enabled: true, passes: false },
  { name: 'host port: same number, other protocol', filter: () => new HostPortFilter(), task: hostPort(8080, 'udp'), node: info(node('a'), [running(hostPort(8080), 'a')]), enabled: true, passes: true },
  { name: 'max replicas: no limit', filter: () => new MaxReplicasFilter(), task: task(svc), node: info(node('a')), enabled: false, passes: true },
  {
    name: 'max replicas: 1 per node, node has one',
    filter: () => new MaxReplicasFilter(),
    task: withTemplate((t) => ({ ...t, placement: { ...t.placement, maxReplicas: 1 } })),
    node: info(node('a'), [running(task(svc), 'a')]),
    enabled: true,
    passes: false,
  },
  {
    name: 'max replicas: 2 per node, node has one',
    filter: () => new MaxReplicasFilter(),
    task: withTemplate((t) => ({ ...t, placement: { ...t.placement, maxReplicas: 2 } })),
    node: info(node('a'), [running(task(svc), 'a')]),
    enabled: true,
    passes: true,
  },
];

describe('scheduler filters', () => {
  it.each(rows)('$name', (row) => {
    const f = row.filter();
    expect(f.setTask(row.task)).toBe(row.enabled);
    if (row.enabled) expect(f.check(row.node)).toBe(row.passes);
  });

  it.each([
    [new ReadyFilter(), '1 node not available for new tasks', '3 nodes not available for new tasks'],
    [new ResourceFilter(), 'insufficient resources on 1 node', 'insufficient resources on 3 nodes'],
    [new ConstraintFilter(), 'scheduling constraints not satisfied on 1 node', 'scheduling constraints not satisfied on 3 nodes'],
    [new PlatformFilter(), 'unsupported platform on 1 node', 'unsupported platform on 3 nodes'],
    [new HostPortFilter(), 'host-mode port already in use on 1 node', 'host-mode port already in use on 3 nodes'],
    [new MaxReplicasFilter(), 'max replicas per node limit exceed', 'max replicas per node limit exceed'],
  ])('%s explains itself in Swarm’s words', (filter, one, three) => {
    expect(filter.explain(1)).toBe(one);
    expect(filter.explain(3)).toBe(three);
  });
});

describe('the filter pipeline', () => {
  it('lists the reasons most frequent first, as "no suitable node (…)" shows them', () => {
    const p = new Pipeline();
    const t = withTemplate((tt) => ({ ...tt, resources: { limits: tt.resources.limits, reservations: { nanoCpus: 3e9, memoryBytes: 0 } }, placement: { ...tt.placement, constraints: ['node.labels.zone==a'] } }));
    p.setTask(t);
    const nodes = [
      info(node('a', { labels: { zone: 'b' } })),
      info(node('b', { labels: { zone: 'b' } })),
      info(node('c', { labels: { zone: 'c' } })),
      info(node('d', { labels: { zone: 'a' }, resources: { nanoCpus: 2e9, memoryBytes: 1e9 } })),
    ];
    expect(nodes.map((n) => p.process(n))).toEqual([false, false, false, false]);
    expect(p.explain()).toBe('scheduling constraints not satisfied on 3 nodes; insufficient resources on 1 node');
  });

  it('checks readiness before anything else, and a node that passes clears the counts', () => {
    const p = new Pipeline();
    p.setTask(constrained('node.hostname==nowhere'));
    expect(p.process(info(node('a', { state: 'down' })))).toBe(false);
    expect(p.process(info(node('b')))).toBe(false);
    expect(p.explain()).toBe('1 node not available for new tasks; scheduling constraints not satisfied on 1 node');
    p.setTask(task(svc));
    expect(p.process(info(node('a', { state: 'down' })))).toBe(false);
    expect(p.process(info(node('b')))).toBe(true);
    expect(p.explain()).toBe('');
  });

  it('orders equal counts as the filters are ordered', () => {
    const p = new Pipeline();
    p.setTask(hostPort(80));
    const busy = info(node('b'), [running(hostPort(80), 'b')]);
    p.process(busy);
    p.process(info(node('a', { availability: 'drain' })));
    expect(p.explain()).toBe('1 node not available for new tasks; host-mode port already in use on 1 node');
  });
});
