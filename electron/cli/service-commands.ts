// `skep service …`: create, ls, ps, inspect, scale, update, rm — Docker's flags, columns, texts and
// progress output ("overall progress: N out of M tasks", "verify: Service … converged").
import { Command, InvalidArgumentError, Option } from 'commander';
import type { SkepApi } from '../../shared/api.js';
import type { ServiceSpecInput } from '../../shared/service-schema.js';
import { taskName, type PortConfig, type Service, type ServiceSpec, type Task, type TaskState } from '../../shared/services.js';
import type { ClientFactory } from './client-factory.js';
import { cliError, print, table } from './output.js';

// ---- Docker's value syntaxes ----

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("5s", "1m30s", "100ms") in milliseconds, refusing with Go's texts. */
export function parseDuration(value: string): number {
  const sign = value.startsWith('-') ? -1 : 1;
  let rest = value.replace(/^[-+]/, '');
  if (rest === '0') return 0;
  if (rest === '') throw new InvalidArgumentError(`time: invalid duration "${value}"`);
  let total = 0;
  while (rest !== '') {
    const number = /^\d*(?:\.\d*)?/.exec(rest)![0];
    if (number === '' || number === '.') throw new InvalidArgumentError(`time: invalid duration "${value}"`);
    rest = rest.slice(number.length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === '') throw new InvalidArgumentError(`time: missing unit in duration "${value}"`);
    const factor = DURATION_UNITS[unit];
    if (factor === undefined) throw new InvalidArgumentError(`time: unknown unit "${unit}" in duration "${value}"`);
    total += Number(number) * factor;
    rest = rest.slice(unit.length);
  }
  return sign * Math.round(total);
}

/** Docker's RAMInBytes ("64m", "1g", "512MiB"). */
export function parseBytes(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?$/i.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`invalid size: '${value}'`);
  const power = ['', 'k', 'm', 'g', 't', 'p'].indexOf(match[2]!.toLowerCase());
  return Math.round(Number(match[1]) * 1024 ** power);
}

function parseCpus(value: string): number {
  const cpus = Number(value);
  if (!Number.isFinite(cpus) || cpus < 0) throw new InvalidArgumentError(`failed to parse ${value} as a rational number`);
  return Math.round(cpus * 1e9);
}

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`strconv.ParseUint: parsing "${value}": invalid syntax`);
  return n;
}

/** `--publish published=8080,target=80[,protocol=udp][,mode=host]` or `8080:80[/udp]`. */
export function parsePort(value: string): PortConfig {
  let published = 0;
  let target = 0;
  let protocol: PortConfig['protocol'] = 'tcp';
  if (value.includes('=')) {
    for (const field of value.split(',')) {
      const [key, raw = ''] = field.split('=', 2);
      if (key === 'published') published = Number(raw);
      else if (key === 'target') target = Number(raw);
      else if (key === 'protocol' && (raw === 'tcp' || raw === 'udp' || raw === 'sctp')) protocol = raw;
      else if (key === 'mode' && raw === 'host') continue;
      else if (key === 'mode') throw new InvalidArgumentError(`invalid publish mode value (${raw}): Skep publishes ports in host mode only`);
      else throw new InvalidArgumentError(`invalid field key ${key}`);
    }
  } else {
    const match = /^(?:(\d+):)?(\d+)(?:\/(tcp|udp|sctp))?$/.exec(value);
    if (!match) throw new InvalidArgumentError(`invalid port format: ${value}`);
    published = Number(match[1] ?? 0);
    target = Number(match[2]);
    protocol = (match[3] as PortConfig['protocol'] | undefined) ?? 'tcp';
  }
  if (!target) throw new InvalidArgumentError('missing mandatory field "target"');
  return { protocol, targetPort: target, publishedPort: published, publishMode: 'host' };
}

function keyValues(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    out[at < 0 ? entry : entry.slice(0, at)] = at < 0 ? '' : entry.slice(at + 1);
  }
  return out;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function collectPorts(value: string, previous: PortConfig[]): PortConfig[] {
  return [...previous, parsePort(value)];
}

// ---- tables ----

const shortId = (id: string, noTrunc = false): string => (noTrunc ? id : id.slice(0, 12));
const capital = (state: string): string => state.charAt(0).toUpperCase() + state.slice(1);

function portsText(ports: readonly PortConfig[]): string {
  return ports.map((p) => `*:${p.publishedPort}->${p.targetPort}/${p.protocol}`).join(', ');
}

function replicasText(service: Service, running: number, desired: number): string {
  const max = service.spec.taskTemplate.placement.maxReplicas;
  return `${running}/${desired}${max > 0 && service.spec.mode.kind === 'replicated' ? ` (max ${max} per node)` : ''}`;
}

/** Go's units.HumanDuration, as Docker's "Running 2 minutes ago". */
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

export function formatTaskTable(tasks: readonly Task[], hostnames: ReadonlyMap<string, string>, options: { noTrunc?: boolean; now?: number } = {}): string {
  const now = options.now ?? Date.now();
  let previousName = '';
  const rows = tasks.map((task) => {
    const name = taskName(task);
    const history = name === previousName;
    previousName = name;
    const err = task.status.err;
    const shownErr = err === '' ? '' : `"${options.noTrunc || err.length <= 29 ? err : err.slice(0, 28) + '…'}"`;
    return [
      shortId(task.id, options.noTrunc),
      history ? ` \\_ ${name}` : name,
      task.spec.container.image,
      hostnames.get(task.nodeId) ?? task.nodeId,
      capital(task.desiredState),
      `${capital(task.status.state)} ${humanDuration(now - Date.parse(task.status.timestamp)).replace(/^Less than a second$/, 'less than a second')} ago`,
      shownErr,
      portsText(task.status.portStatus ?? []),
    ];
  });
  return table(['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'], rows);
}

/** Newest task of a slot first, older ones under it (Docker's ps order). */
function psOrder(tasks: readonly Task[]): Task[] {
  return [...tasks].sort((a, b) =>
    a.serviceName.localeCompare(b.serviceName) || a.slot - b.slot || a.nodeId.localeCompare(b.nodeId) || b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

// ---- progress ----

const BAR = 50;
const STATE_PROGRESS: Partial<Record<TaskState, number>> = { new: 1, pending: 1, assigned: 2, accepted: 3, preparing: 4, ready: 5, starting: 6, running: 7 };

function bar(state: TaskState): string {
  const step = STATE_PROGRESS[state] ?? 0;
  const filled = Math.round((step / 7) * BAR);
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(BAR - filled)}]`;
}

/** Waits until the service's tasks run, printing Docker's progress lines as they change. */
async function showProgress(api: SkepApi, ref: string, label: string): Promise<void> {
  let last = '';
  let convergedSince: number | undefined;
  for (;;) {
    const service = await api.serviceInspect(ref);
    const tasks = (await api.taskList({ services: [service.id] })).filter((t) => t.desiredState === 'running' || t.desiredState === 'ready');
    const slots = new Map<number | string, Task>();
    for (const task of psOrder(tasks)) if (!slots.has(task.slot || task.nodeId)) slots.set(task.slot || task.nodeId, task);
    const desired = service.spec.mode.kind === 'replicated' ? service.spec.mode.replicas : slots.size;
    // A task is up to date when it runs the service's task template (a scale changes the spec version, not the tasks).
    const template = JSON.stringify(service.spec.taskTemplate);
    const upToDate = [...slots.values()].filter((t) => t.status.state === 'running' && JSON.stringify(t.spec) === template);
    const lines = [`overall progress: ${upToDate.length} out of ${desired} tasks`];
    const keys = service.spec.mode.kind === 'replicated' ? Array.from({ length: desired }, (_, i) => i + 1) : [...slots.keys()];
    keys.forEach((key, i) => {
      const task = slots.get(key);
      const state = task?.status.state ?? 'new';
      const text = task?.status.err ? task.status.err : `${state.padEnd(9)} ${bar(state)}`;
      lines.push(`${i + 1}/${desired}: ${text}`);
    });
    const frame = lines.join('\n');
    if (frame !== last) {
      print(frame);
      last = frame;
    }
    const converged = upToDate.length === desired && tasks.length >= desired;
    if (!converged) convergedSince = undefined;
    else if (convergedSince === undefined) {
      convergedSince = Date.now();
      const monitor = service.spec.updateConfig.monitorMs;
      if (monitor > 0) print(`verify: Waiting ${Math.round(monitor / 1000)} seconds to verify that tasks are stable...`);
    } else if (Date.now() - convergedSince >= service.spec.updateConfig.monitorMs) {
      print(`verify: Service ${label} converged`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// ---- the commands ----

interface CreateOptions {
  name?: string;
  replicas?: number;
  mode: 'replicated' | 'global';
  constraint: string[];
  placementPref: string[];
  env: string[];
  label: string[];
  containerLabel: string[];
  publish: PortConfig[];
  restartCondition?: 'none' | 'on-failure' | 'any';
  restartDelay?: number;
  restartMaxAttempts?: number;
  restartWindow?: number;
  limitCpu?: number;
  limitMemory?: number;
  reserveCpu?: number;
  reserveMemory?: number;
  replicasMaxPerNode?: number;
  updateParallelism?: number;
  updateDelay?: number;
  updateOrder?: 'stop-first' | 'start-first';
  updateFailureAction?: 'pause' | 'continue' | 'rollback';
  updateMonitor?: number;
  stopGracePeriod?: number;
  entrypoint?: string;
  hostname?: string;
  detach?: boolean;
  quiet?: boolean;
}

function specFromFlags(image: string, args: readonly string[], o: CreateOptions): ServiceSpecInput {
  return {
    name: o.name ?? '',
    labels: keyValues(o.label),
    mode: o.mode === 'global' ? { kind: 'global' } : { kind: 'replicated', replicas: o.replicas ?? 1 },
    taskTemplate: {
      container: {
        image,
        args: [...args],
        ...(o.entrypoint ? { command: o.entrypoint.split(' ').filter(Boolean) } : {}),
        env: o.env,
        labels: keyValues(o.containerLabel),
        ...(o.stopGracePeriod !== undefined ? { stopGracePeriodMs: o.stopGracePeriod } : {}),
        ...(o.hostname ? { hostname: o.hostname } : {}),
      },
      resources: {
        limits: { nanoCpus: o.limitCpu ?? 0, memoryBytes: o.limitMemory ?? 0 },
        reservations: { nanoCpus: o.reserveCpu ?? 0, memoryBytes: o.reserveMemory ?? 0 },
      },
      restartPolicy: {
        ...(o.restartCondition ? { condition: o.restartCondition } : {}),
        ...(o.restartDelay !== undefined ? { delayMs: o.restartDelay } : {}),
        ...(o.restartMaxAttempts !== undefined ? { maxAttempts: o.restartMaxAttempts } : {}),
        ...(o.restartWindow !== undefined ? { windowMs: o.restartWindow } : {}),
      },
      placement: {
        constraints: o.constraint,
        preferences: o.placementPref.map((p) => ({ spread: p.replace(/^spread=/, '') })),
        maxReplicas: o.replicasMaxPerNode ?? 0,
      },
    },
    updateConfig: {
      ...(o.updateParallelism !== undefined ? { parallelism: o.updateParallelism } : {}),
      ...(o.updateDelay !== undefined ? { delayMs: o.updateDelay } : {}),
      ...(o.updateOrder ? { order: o.updateOrder } : {}),
      ...(o.updateFailureAction ? { failureAction: o.updateFailureAction } : {}),
      ...(o.updateMonitor !== undefined ? { monitorMs: o.updateMonitor } : {}),
    },
    endpointSpec: { ports: o.publish },
  };
}

function addCreateFlags(command: Command): Command {
  return command
    .option('--name <string>', 'Service name')
    .option('--replicas <uint>', 'Number of tasks', nonNegativeInteger)
    .addOption(new Option('--mode <string>', 'Service mode').choices(['replicated', 'global']).default('replicated'))
    .option('--constraint <list>', 'Placement constraints', collect, [])
    .option('--placement-pref <pref>', 'Add a placement preference', collect, [])
    .option('-e, --env <list>', 'Set environment variables', collect, [])
    .option('-l, --label <list>', 'Service labels', collect, [])
    .option('--container-label <list>', 'Container labels', collect, [])
    .option('-p, --publish <port>', 'Publish a port as a node port', collectPorts, [])
    .addOption(new Option('--restart-condition <string>', 'Restart when condition is met ("none", "on-failure", "any")').choices(['none', 'on-failure', 'any']))
    .option('--restart-delay <duration>', 'Delay between restart attempts (ns|us|ms|s|m|h)', parseDuration)
    .option('--restart-max-attempts <uint>', 'Maximum number of restarts before giving up', nonNegativeInteger)
    .option('--restart-window <duration>', 'Window used to evaluate the restart policy (ns|us|ms|s|m|h)', parseDuration)
    .option('--limit-cpu <decimal>', 'Limit CPUs', parseCpus)
    .option('--limit-memory <bytes>', 'Limit Memory', parseBytes)
    .option('--reserve-cpu <decimal>', 'Reserve CPUs', parseCpus)
    .option('--reserve-memory <bytes>', 'Reserve Memory', parseBytes)
    .option('--replicas-max-per-node <uint>', 'Maximum number of tasks per node (default 0 = unlimited)', nonNegativeInteger)
    .option('--update-parallelism <uint>', 'Maximum number of tasks updated simultaneously (0 to update all at once)', nonNegativeInteger)
    .option('--update-delay <duration>', 'Delay between updates (ns|us|ms|s|m|h)', parseDuration)
    .addOption(new Option('--update-order <string>', 'Update order ("start-first", "stop-first")').choices(['start-first', 'stop-first']))
    .addOption(new Option('--update-failure-action <string>', 'Action on update failure ("pause", "continue", "rollback")').choices(['pause', 'continue', 'rollback']))
    .option('--update-monitor <duration>', 'Duration after each task update to monitor for failure (ns|us|ms|s|m|h)', parseDuration)
    .option('--stop-grace-period <duration>', 'Time to wait before force killing a container (ns|us|ms|s|m|h)', parseDuration)
    .option('--entrypoint <command>', 'Overwrite the default ENTRYPOINT of the image')
    .option('--hostname <string>', 'Container hostname')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output');
}

async function nodeNames(api: SkepApi): Promise<Map<string, string>> {
  const nodes = await api.nodeList().catch(() => []);
  return new Map(nodes.map((n) => [n.id, n.description.hostname]));
}

export function serviceCommand(client: ClientFactory): Command {
  // Positional options here, so that everything after `create IMAGE` is the container's command, dashes included.
  const service = new Command('service').description('Manage Swarm services').enablePositionalOptions();

  addCreateFlags(service.command('create'))
    .description('Create a new service')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions()
    .action(async (image: string, args: string[], options: CreateOptions) => {
      const api = client();
      const { id } = await api.serviceCreate(specFromFlags(image, args, options));
      print(id);
      if (!options.detach && !options.quiet) await showProgress(api, id, id);
    });

  service
    .command('ls')
    .alias('list')
    .description('List services')
    .option('-q, --quiet', 'Only display IDs')
    .addOption(new Option('--format <format>', 'Format the output').choices(['json', 'table']).default('table'))
    .action(async (options: { quiet?: boolean; format: string }) => {
      const entries = await client().serviceList();
      if (options.quiet) return print(entries.map((e) => e.service.id).join('\n'));
      if (options.format === 'json') return print(JSON.stringify(entries, null, 2));
      print(table(['ID', 'NAME', 'MODE', 'REPLICAS', 'IMAGE', 'PORTS'], entries.map(({ service: s, running, desired }) => [
        shortId(s.id), s.spec.name, s.spec.mode.kind, replicasText(s, running, desired), s.spec.taskTemplate.container.image, portsText(s.spec.endpointSpec.ports),
      ])));
    });

  service
    .command('ps')
    .description('List the tasks of one or more services')
    .argument('<service...>')
    .option('-q, --quiet', 'Only display task IDs')
    .option('--no-trunc', 'Do not truncate output')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided (desired-state=running|shutdown|accepted, node=NODE)', collect, [])
    .addOption(new Option('--format <format>', 'Format the output').choices(['json', 'table']).default('table'))
    .action(async (refs: string[], options: { quiet?: boolean; trunc: boolean; filter: string[]; format: string }) => {
      const api = client();
      const filters = keyValues(options.filter);
      const desired = filters['desired-state'];
      if (desired !== undefined && desired !== 'running' && desired !== 'shutdown' && desired !== 'accepted') throw new InvalidArgumentError(`invalid filter 'desired-state=${desired}'`);
      const tasks = psOrder(await api.taskList({ services: refs, ...(filters['node'] ? { nodes: [filters['node']] } : {}), ...(desired ? { desiredState: desired } : {}) }));
      if (options.quiet) return print(tasks.map((t) => t.id).join('\n'));
      if (options.format === 'json') return print(JSON.stringify(tasks, null, 2));
      print(formatTaskTable(tasks, await nodeNames(api), { noTrunc: !options.trunc }));
    });

  service
    .command('inspect')
    .description('Display detailed information on one or more services')
    .argument('<service...>')
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], options: { pretty?: boolean }) => {
      const services: Service[] = [];
      for (const ref of refs) services.push(await client().serviceInspect(ref));
      if (!options.pretty) return print(JSON.stringify(services, null, 2));
      print(services.map((s) => [
        `ID:\t\t${s.id}`, `Name:\t\t${s.spec.name}`,
        `Service Mode:\t${s.spec.mode.kind === 'replicated' ? `Replicated\n Replicas:\t${s.spec.mode.replicas}` : 'Global'}`,
        ...(s.updateStatus ? [`UpdateStatus:\n State:\t\t${s.updateStatus.state}\n Message:\t${s.updateStatus.message}`] : []),
        `ContainerSpec:\n Image:\t\t${s.spec.taskTemplate.container.image}${s.spec.taskTemplate.container.args.length ? `\n Args:\t\t${s.spec.taskTemplate.container.args.join(' ')}` : ''}`,
      ].join('\n')).join('\n\n'));
    });

  service
    .command('scale')
    .description('Scale one or multiple replicated services')
    .argument('<service=replicas...>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .action(async (pairs: string[], options: { detach?: boolean }) => {
      const api = client();
      for (const pair of pairs) {
        const [ref, count] = pair.split('=');
        if (!ref || count === undefined) throw new InvalidArgumentError(`invalid scale specifier '${pair}'.\nSee 'skep service scale --help'.`);
      }
      // As docker/cli: a bad count is reported for its service, and the others are still scaled.
      const refused: string[] = [];
      for (const pair of pairs) {
        const [ref = '', count = ''] = pair.split('=');
        if (!/^\d+$/.test(count)) {
          refused.push(cliError('SERVICE_SCALE_REPLICAS_INVALID', ref, count).message);
          continue;
        }
        await api.serviceScale(ref, Number(count));
        print(`${ref} scaled to ${count}`);
        if (!options.detach) await showProgress(api, ref, ref);
      }
      if (refused.length > 0) throw cliError('SERVICE_SCALE_FAILED', refused);
    });

  service
    .command('update')
    .description('Update a service')
    .argument('<service>')
    .option('--image <image>', 'Service image tag')
    .option('--replicas <uint>', 'Number of tasks', nonNegativeInteger)
    .option('--env-add <list>', 'Add or update an environment variable', collect, [])
    .option('--env-rm <list>', 'Remove an environment variable', collect, [])
    .option('--constraint-add <list>', 'Add or update a placement constraint', collect, [])
    .option('--constraint-rm <list>', 'Remove a constraint', collect, [])
    .option('--label-add <list>', 'Add or update a service label', collect, [])
    .option('--rollback', 'Rollback to previous specification')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .action(async (ref: string, o: { image?: string; replicas?: number; envAdd: string[]; envRm: string[]; constraintAdd: string[]; constraintRm: string[]; labelAdd: string[]; rollback?: boolean; detach?: boolean }) => {
      const api = client();
      const current = await api.serviceInspect(ref);
      const spec = o.rollback ? current.spec : updatedSpec(current.spec, o);
      await api.serviceUpdate(ref, spec, o.rollback ? { rollback: true } : {});
      print(ref);
      if (!o.detach) await showProgress(api, current.id, ref);
    });

  service
    .command('rollback')
    .description('Revert changes to a service\'s configuration')
    .argument('<service>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .action(async (ref: string, o: { detach?: boolean; quiet?: boolean }) => {
      const api = client();
      const current = await api.serviceInspect(ref);
      await api.serviceUpdate(ref, current.spec, { rollback: true });
      print(ref);
      if (!o.detach && !o.quiet) await showProgress(api, current.id, ref);
    });

  service
    .command('logs')
    .description('Fetch the logs of a service')
    .argument('<service>')
    .option('-n, --tail <lines>', 'Number of lines to show from the end of the logs (default "all")')
    .option('--since <duration>', 'Show logs since a relative time (e.g. 42m for 42 minutes)', parseDuration)
    .option('-t, --timestamps', 'Show timestamps')
    .option('--no-task-ids', 'Do not include task IDs in output')
    .option('--no-trunc', 'Do not truncate output')
    .option('--raw', 'Do not neatly format logs')
    .action(async (ref: string, o: { tail?: string; since?: number; timestamps?: boolean; taskIds: boolean; trunc: boolean; raw?: boolean }) => {
      if (o.tail !== undefined && o.tail !== 'all' && !/^\d+$/.test(o.tail)) throw new InvalidArgumentError(`invalid value for "tail": ${o.tail}`);
      const tail = o.tail === undefined || o.tail === 'all' ? undefined : Number(o.tail);
      const lines = await client().serviceLogs(ref, {
        ...(tail !== undefined ? { tail } : {}),
        ...(o.since !== undefined ? { sinceSeconds: Math.floor((Date.now() - o.since) / 1000) } : {}),
      });
      for (const line of lines) {
        const text = o.timestamps && line.timestamp ? `${line.timestamp} ${line.text}` : line.text;
        if (o.raw) {
          (line.stream === 'stderr' ? process.stderr : process.stdout).write(text + '\n');
          continue;
        }
        const slot = line.slot > 0 ? String(line.slot) : line.nodeId;
        const context = `${line.serviceName}.${slot}${o.taskIds ? `.${o.trunc ? line.taskId.slice(0, 12) : line.taskId}` : ''}@${line.hostname}`;
        (line.stream === 'stderr' ? process.stderr : process.stdout).write(`${context}    | ${text}\n`);
      }
    });

  service
    .command('rm')
    .alias('remove')
    .description('Remove one or more services')
    .argument('<service...>')
    .action(async (refs: string[]) => {
      for (const ref of refs) {
        await client().serviceRemove(ref);
        print(ref);
      }
    });

  return service;
}

function updatedSpec(spec: ServiceSpec, o: { image?: string; replicas?: number; envAdd: string[]; envRm: string[]; constraintAdd: string[]; constraintRm: string[]; labelAdd: string[] }): ServiceSpec {
  const envKey = (entry: string): string => entry.split('=')[0]!;
  const removed = new Set([...o.envRm, ...o.envAdd.map(envKey)]);
  const env = [...spec.taskTemplate.container.env.filter((e) => !removed.has(envKey(e))), ...o.envAdd];
  const constraints = [...spec.taskTemplate.placement.constraints.filter((c) => !o.constraintRm.includes(c)), ...o.constraintAdd];
  const mode = o.replicas !== undefined && spec.mode.kind === 'replicated' ? { kind: 'replicated' as const, replicas: o.replicas } : spec.mode;
  return {
    ...spec,
    labels: { ...spec.labels, ...keyValues(o.labelAdd) },
    mode,
    taskTemplate: {
      ...spec.taskTemplate,
      container: { ...spec.taskTemplate.container, image: o.image ?? spec.taskTemplate.container.image, env },
      placement: { ...spec.taskTemplate.placement, constraints },
    },
  };
}
