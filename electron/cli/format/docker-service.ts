// Skep's services and tasks in Docker's shapes: the swarm.Service object `service inspect` prints
// (moby's api/types/swarm/service.go and task.go, fields in Go's order, omitempty as Go applies it,
// durations in nanoseconds), the row context of `service ls` (docker/cli cli/command/service/
// formatter.go) and of `service ps` / `node ps` (cli/command/task/formatter.go and print.go).
import type { HealthConfig, PortConfig, Service, ServiceListEntry, ServiceSpec, Task, UpdateConfig } from '../../../shared/services.js';
import { taskName } from '../../../shared/services.js';
import { goTime, prettyPrint, rowContext, type ListingKind, type RowContext } from './docker-shapes.js';
import { GoMap } from './go-values.js';

/** docker/cli cli/command/service/formatter.go: defaultServiceTableFormat, headers and the raw format. */
export const SERVICE_LISTING: ListingKind = {
  defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Mode}}\t{{.Replicas}}\t{{.Image}}\t{{.Ports}}',
  headers: { ID: 'ID', Name: 'NAME', Mode: 'MODE', Replicas: 'REPLICAS', Image: 'IMAGE', Ports: 'PORTS' },
  raw: 'id: {{.ID}}\\nname: {{.Name}}\\nmode: {{.Mode}}\\nreplicas: {{.Replicas}}\\nimage: {{.Image}}\\nports: {{.Ports}}\\n',
  rawQuiet: 'id: {{.ID}}',
};

/** docker/cli cli/command/task/formatter.go: defaultTaskTableFormat, headers and the raw format. */
export const TASK_LISTING: ListingKind = {
  defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Image}}\t{{.Node}}\t{{.DesiredState}}\t{{.CurrentState}}\t{{.Error}}\t{{.Ports}}',
  headers: { ID: 'ID', Name: 'NAME', Image: 'IMAGE', Node: 'NODE', DesiredState: 'DESIRED STATE', CurrentState: 'CURRENT STATE', Error: 'ERROR', Ports: 'PORTS' },
  raw: 'id: {{.ID}}\\nname: {{.Name}}\\nimage: {{.Image}}\\nnode: {{.Node}}\\ndesired_state: {{.DesiredState}}\\ncurrent_state: {{.CurrentState}}\\nerror: {{.Error}}\\nports: {{.Ports}}\\n',
  rawQuiet: 'id: {{.ID}}',
};

/** formatter.TruncateID. */
export function truncateId(id: string): string {
  return id.slice(0, 12);
}

/** formatter.Ellipsis: at most `width` characters, the last one "…" when cut. */
export function ellipsis(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, width - 1).join('') + '…';
}

/** Go's units.HumanDuration ("2 minutes", "About an hour"), as Docker's CURRENT STATE column uses it. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** The image as listings show it: a tagged reference loses its digest (reference.FamiliarString of name:tag). */
export function displayImage(image: string): string {
  const at = image.indexOf('@');
  if (at < 0) return image;
  const name = image.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  return name.lastIndexOf(':') > lastSlash ? name : image;
}

/** serviceContext.Ports: published ports grouped into ranges ("*:80-81->80-81/tcp"). Skep's are host-mode ports. */
export function servicePorts(ports: readonly PortConfig[]): string {
  const sorted = [...ports].sort((a, b) => (a.protocol === b.protocol ? a.publishedPort - b.publishedPort : a.protocol < b.protocol ? -1 : 1));
  const out: string[] = [];
  let range: { pStart: number; pEnd: number; tStart: number; tEnd: number; protocol: string } | undefined;
  const text = (r: NonNullable<typeof range>): string =>
    `*:${r.pEnd > r.pStart ? `${r.pStart}-${r.pEnd}` : r.pStart}->${r.tEnd > r.tStart ? `${r.tStart}-${r.tEnd}` : r.tStart}/${r.protocol}`;
  for (const p of sorted) {
    const isRange = range !== undefined && range.tEnd !== range.tStart;
    if (!range || p.protocol !== range.protocol || p.publishedPort - range.pEnd > 1 || p.targetPort - range.tEnd > 1 || (isRange && p.targetPort <= range.tEnd)) {
      if (range && range.pStart > 0) out.push(text(range));
      range = { pStart: p.publishedPort, pEnd: p.publishedPort, tStart: p.targetPort, tEnd: p.targetPort, protocol: p.protocol };
      continue;
    }
    range.pEnd = p.publishedPort;
    range.tEnd = p.targetPort;
  }
  if (range && range.pStart > 0) out.push(text(range));
  return out.join(', ');
}

/** serviceContext: one row of `service ls`. */
export function serviceRow(entry: ServiceListEntry): RowContext {
  const { service, running, desired } = entry;
  const spec = service.spec;
  return rowContext('*service.serviceContext', {
    ID: () => truncateId(service.id),
    Name: () => spec.name,
    Mode: () => spec.mode.kind,
    Replicas: () => {
      const max = spec.mode.kind === 'replicated' ? spec.taskTemplate.placement.maxReplicas : 0;
      return max > 0 ? `${running}/${desired} (max ${max} per node)` : `${running}/${desired}`;
    },
    Image: () => displayImage(spec.taskTemplate.container.image),
    Ports: () => servicePorts(spec.endpointSpec.ports),
  });
}

/** What a task row needs besides the task: its shown name (history rows indented), its node's name, truncation, the clock. */
export interface TaskRowOptions {
  readonly name: string;
  readonly node: string;
  readonly trunc: boolean;
  readonly now: number;
}

/** taskContext: one row of `service ps` and `node ps`. */
export function taskRow(task: Task, o: TaskRowOptions): RowContext {
  return rowContext('*task.taskContext', {
    ID: () => (o.trunc ? truncateId(task.id) : task.id),
    Name: () => o.name,
    Image: () => (o.trunc ? displayImage(task.spec.container.image) : task.spec.container.image),
    Node: () => o.node,
    DesiredState: () => prettyPrint(task.desiredState),
    CurrentState: () => `${prettyPrint(task.status.state)} ${humanDuration(o.now - Date.parse(task.status.timestamp)).toLowerCase()} ago`,
    Error: () => {
      const err = o.trunc ? ellipsis(task.status.err, 30) : task.status.err;
      return err === '' ? '' : `"${err}"`;
    },
    Ports: () => (task.status.portStatus ?? []).map((p) => `*:${p.publishedPort}->${p.targetPort}/${p.protocol}`).join(','),
  });
}

/** task.Print's order: by name (natural order), the newest task of a name first. */
export function taskPrintOrder(tasks: readonly Task[]): Task[] {
  return [...tasks].sort((a, b) => {
    const byName = taskName(a).localeCompare(taskName(b), 'en', { numeric: true });
    return byName !== 0 ? byName : Date.parse(b.createdAt) - Date.parse(a.createdAt) || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);
  });
}

/** task.Print: rows in print order, older tasks of a name as ` \_ name` in a table. */
export function taskRows(tasks: readonly Task[], hostnames: ReadonlyMap<string, string>, options: { trunc: boolean; table: boolean; now?: number }): RowContext[] {
  const now = options.now ?? Date.now();
  let previous = '';
  return taskPrintOrder(tasks).map((task) => {
    const name = taskName(task);
    const shown = name === previous && options.table ? ` \\_ ${name}` : name;
    previous = name;
    return taskRow(task, { name: shown, node: hostnames.get(task.nodeId) ?? task.nodeId, trunc: options.trunc, now });
  });
}

// ---- swarm.Service ----

const NS_PER_MS = 1e6;
const nanos = (ms: number): number | undefined => (ms === 0 ? undefined : ms * NS_PER_MS);
const emptyToUndefined = <T>(items: readonly T[]): readonly T[] | undefined => (items.length === 0 ? undefined : items);
const mapOrUndefined = (map: Readonly<Record<string, string>>): GoMap | undefined => (Object.keys(map).length === 0 ? undefined : new GoMap(map));

function dockerHealth(h: HealthConfig | undefined): Record<string, unknown> | undefined {
  if (!h) return undefined;
  return { Test: emptyToUndefined(h.test), Interval: nanos(h.intervalMs), Timeout: nanos(h.timeoutMs), StartPeriod: nanos(h.startPeriodMs), Retries: h.retries === 0 ? undefined : h.retries };
}

function dockerUpdateConfig(u: UpdateConfig): Record<string, unknown> {
  return { Parallelism: u.parallelism, Delay: nanos(u.delayMs), FailureAction: u.failureAction, Monitor: nanos(u.monitorMs), MaxFailureRatio: u.maxFailureRatio, Order: u.order };
}

function dockerPorts(ports: readonly PortConfig[]): readonly Record<string, unknown>[] | undefined {
  return emptyToUndefined(ports.map((p) => ({ Protocol: p.protocol, TargetPort: p.targetPort, PublishedPort: p.publishedPort, PublishMode: p.publishMode })));
}

/** swarm.ServiceSpec. */
export function dockerServiceSpec(spec: ServiceSpec): Record<string, unknown> {
  const t = spec.taskTemplate;
  const c = t.container;
  const res = t.resources;
  return {
    Name: spec.name,
    Labels: new GoMap(spec.labels),
    TaskTemplate: {
      ContainerSpec: {
        Image: c.image,
        Labels: mapOrUndefined(c.labels),
        Command: emptyToUndefined(c.command),
        Args: emptyToUndefined(c.args),
        Hostname: c.hostname === '' ? undefined : c.hostname,
        Env: emptyToUndefined(c.env),
        Mounts: emptyToUndefined(c.mounts.map((m) => ({ Type: m.type, Source: m.source === '' ? undefined : m.source, Target: m.target, ReadOnly: m.readOnly ? true : undefined }))),
        StopGracePeriod: c.stopGracePeriodMs * NS_PER_MS,
        Healthcheck: dockerHealth(c.healthcheck),
      },
      Resources: {
        Limits: { NanoCPUs: res.limits.nanoCpus || undefined, MemoryBytes: res.limits.memoryBytes || undefined },
        Reservations: { NanoCPUs: res.reservations.nanoCpus || undefined, MemoryBytes: res.reservations.memoryBytes || undefined },
      },
      RestartPolicy: { Condition: t.restartPolicy.condition, Delay: t.restartPolicy.delayMs * NS_PER_MS, MaxAttempts: t.restartPolicy.maxAttempts, Window: nanos(t.restartPolicy.windowMs) },
      Placement: {
        Constraints: emptyToUndefined(t.placement.constraints),
        Preferences: emptyToUndefined(t.placement.preferences.map((p) => ({ Spread: { SpreadDescriptor: p.spread } }))),
        MaxReplicas: t.placement.maxReplicas || undefined,
        Platforms: emptyToUndefined(t.placement.platforms.map((p) => ({ Architecture: p.architecture || undefined, OS: p.os || undefined }))),
      },
      ForceUpdate: 0,
      Runtime: 'container',
    },
    Mode: spec.mode.kind === 'replicated' ? { Replicated: { Replicas: spec.mode.replicas } } : { Global: {} },
    UpdateConfig: dockerUpdateConfig(spec.updateConfig),
    RollbackConfig: dockerUpdateConfig(spec.rollbackConfig),
    EndpointSpec: { Mode: 'vip', Ports: dockerPorts(spec.endpointSpec.ports) },
  };
}

/** swarm.Service as the Engine API returns it (and `docker service inspect` prints it). */
export function dockerService(service: Service): Record<string, unknown> {
  const u = service.updateStatus;
  return {
    ID: service.id,
    Version: { Index: service.version || undefined },
    CreatedAt: goTime(service.createdAt),
    UpdatedAt: goTime(service.updatedAt),
    Spec: dockerServiceSpec(service.spec),
    PreviousSpec: service.previousSpec ? dockerServiceSpec(service.previousSpec) : undefined,
    Endpoint: {
      Spec: { Mode: 'vip', Ports: dockerPorts(service.spec.endpointSpec.ports) },
      Ports: dockerPorts(service.spec.endpointSpec.ports),
    },
    UpdateStatus: u ? { State: u.state, StartedAt: goTime(u.startedAt), CompletedAt: u.completedAt ? goTime(u.completedAt) : undefined, Message: u.message } : undefined,
  };
}
