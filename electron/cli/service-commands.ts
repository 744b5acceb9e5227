// `skep service …`: create, ls, ps, inspect, scale, update, rollback, rm, logs — Docker's flags
// (service-flags.ts), columns and --format (format/docker-service.ts), texts and progress output
// ("overall progress: N out of M tasks", "verify: Service … converged").
import { Command } from 'commander';
import type { SkepApi } from '../../shared/api.js';
import { skepError } from '../../shared/errors.js';
import type { ServiceListEntry, ServiceLogLine, Task, TaskFilter, TaskState } from '../../shared/services.js';
import type { ClientFactory } from './client-factory.js';
import { FORMAT_HELP, INSPECT_FORMAT_HELP, printInspect, printListing } from './format/command-output.js';
import { dockerService, SERVICE_LISTING, serviceRow, TASK_LISTING, taskPrintOrder, taskRows } from './format/docker-service.js';
import { formatList, isTableFormat, TABLE_FORMAT_KEY } from './format/formatter.js';
import { cliError, print } from './output.js';
import { addCreateFlags, addUpdateFlags, checkRollbackAlone, createSpec, updateSpec, type CreateFlags, type UpdateFlags } from './service-flags.js';
import { durationFlag } from './service-values.js';

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
    for (const task of taskPrintOrder(tasks)) if (!slots.has(task.slot || task.nodeId)) slots.set(task.slot || task.nodeId, task);
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

/** node ID → hostname, for the NODE column (`--no-resolve` shows IDs). */
export async function nodeNames(api: SkepApi): Promise<Map<string, string>> {
  const nodes = await api.nodeList().catch(() => []);
  return new Map(nodes.map((n) => [n.id, n.description.hostname]));
}

/** opts.FilterOpt: `-f name=value`, names case-insensitive, both sides trimmed. */
export function collectFilter(value: string, previous: [string, string][] = []): [string, string][] {
  if (value === '') return previous;
  const at = value.indexOf('=');
  if (at < 0) throw cliError('FILTER_FORMAT', value);
  return [...previous, [value.slice(0, at).trim().toLowerCase(), value.slice(at + 1).trim()]];
}

function filterValues(filters: readonly (readonly [string, string])[], accepted: ReadonlySet<string>): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const [name, value] of filters) {
    if (!accepted.has(name)) throw skepError('INVALID_FILTER', name);
    by.set(name, [...(by.get(name) ?? []), value]);
  }
  return by;
}

const TASK_FILTERS = new Set(['id', 'name', 'node', 'desired-state', 'service']);

/** `service ps -f` / `node ps -f`: swarmkit's task filters (id and name by prefix, node, desired-state). */
export async function filteredTasks(api: SkepApi, base: TaskFilter, filters: readonly (readonly [string, string])[]): Promise<Task[]> {
  const by = filterValues(filters, TASK_FILTERS);
  const desired = by.get('desired-state') ?? [];
  for (const state of desired) if (!['running', 'shutdown', 'accepted'].includes(state)) throw skepError('INVALID_FILTER', `desired-state=${state}`);
  const nodes = by.get('node');
  const tasks = await api.taskList({ ...base, ...(nodes ? { nodes: [...(base.nodes ?? []), ...nodes] } : {}) });
  const any = (name: string, test: (value: string) => boolean): boolean => {
    const values = by.get(name);
    return values === undefined || values.some(test);
  };
  return tasks.filter(
    (t) =>
      any('id', (prefix) => t.id.startsWith(prefix)) &&
      any('name', (prefix) => `${t.serviceName}.${t.slot > 0 ? t.slot : t.nodeId}`.startsWith(prefix)) &&
      any('service', (ref) => t.serviceId.startsWith(ref) || t.serviceName === ref) &&
      any('desired-state', (state) => (state === 'running' ? t.desiredState === 'running' || t.desiredState === 'ready' : state === 'accepted' ? t.desiredState === 'accepted' : t.desiredState === 'shutdown' || t.desiredState === 'remove')),
  );
}

/** task.Print: Docker's table (or a --format), history rows indented, -q for IDs. */
export function printTasks(tasks: readonly Task[], hostnames: ReadonlyMap<string, string>, o: { quiet?: boolean; format?: string; trunc: boolean; now?: number }): void {
  const format = o.format === undefined || o.format === '' ? TABLE_FORMAT_KEY : o.format;
  const rows = taskRows(tasks, hostnames, { trunc: o.trunc, table: isTableFormat(format), ...(o.now !== undefined ? { now: o.now } : {}) });
  printListing(TASK_LISTING, format, o.quiet === true, rows);
}

/** The default `service ps` table as text (tests and the progress view use it). */
export function formatTaskTable(tasks: readonly Task[], hostnames: ReadonlyMap<string, string>, options: { noTrunc?: boolean; now?: number } = {}): string {
  const rows = taskRows(tasks, hostnames, { trunc: !options.noTrunc, table: true, ...(options.now !== undefined ? { now: options.now } : {}) });
  return formatList(TASK_LISTING.defaultTable, rows, TASK_LISTING.headers).replace(/\n$/, '');
}

const SERVICE_FILTERS = new Set(['id', 'name', 'label', 'mode']);

/** `service ls -f`: id and name by prefix, label (key or key=value), mode. */
export function filterServices(entries: readonly ServiceListEntry[], filters: readonly (readonly [string, string])[]): ServiceListEntry[] {
  const by = filterValues(filters, SERVICE_FILTERS);
  const any = (name: string, test: (value: string) => boolean): boolean => {
    const values = by.get(name);
    return values === undefined || values.some(test);
  };
  return entries.filter(({ service: s }) =>
    any('id', (prefix) => s.id.startsWith(prefix)) &&
    any('name', (prefix) => s.spec.name.startsWith(prefix)) &&
    any('mode', (mode) => mode === s.spec.mode.kind) &&
    (by.get('label') ?? []).every((wanted) => {
      const at = wanted.indexOf('=');
      const key = at < 0 ? wanted : wanted.slice(0, at);
      return Object.hasOwn(s.spec.labels, key) && (at < 0 || s.spec.labels[key] === wanted.slice(at + 1));
    }));
}

/** One log line as `service logs` prints it: `<service>.<slot>.<task>@<node>    | text`, or bare with --raw. */
export function logLineText(line: ServiceLogLine, o: { timestamps?: boolean; taskIds: boolean; trunc: boolean; raw?: boolean; resolve?: boolean }): string {
  const text = o.timestamps && line.timestamp ? `${line.timestamp} ${line.text}` : line.text;
  if (o.raw) return text;
  const slot = line.slot > 0 ? String(line.slot) : line.nodeId;
  const node = o.resolve === false ? line.nodeId : line.hostname;
  const context = `${line.serviceName}.${slot}${o.taskIds ? `.${o.trunc ? line.taskId.slice(0, 12) : line.taskId}` : ''}@${node}`;
  return `${context}    | ${text}`;
}

interface LogFlags {
  tail?: string;
  since?: number;
  timestamps?: boolean;
  taskIds: boolean;
  trunc: boolean;
  raw?: boolean;
  follow?: boolean;
  resolve: boolean;
}

export function serviceCommand(client: ClientFactory): Command {
  // Positional options here, so that everything after `create IMAGE` is the container's command, dashes included.
  const service = new Command('service').description('Manage Swarm services').enablePositionalOptions();

  addCreateFlags(service.command('create'))
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .description('Create a new service')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions()
    .action(async (image: string, args: string[], options: CreateFlags) => {
      const spec = createSpec(image, args, options);
      const api = client();
      const { id } = await api.serviceCreate(spec);
      print(id);
      if (!options.detach && !options.quiet) await showProgress(api, id, id);
    });

  service
    .command('ls')
    .alias('list')
    .usage('[OPTIONS]')
    .description('List services')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collectFilter, [])
    .option('--format <string>', FORMAT_HELP)
    .option('-q, --quiet', 'Only display IDs')
    .action(async (options: { quiet?: boolean; format?: string; filter: [string, string][] }) => {
      const entries = filterServices(await client().serviceList(), options.filter);
      entries.sort((a, b) => a.service.spec.name.localeCompare(b.service.spec.name, 'en', { numeric: true }));
      printListing(SERVICE_LISTING, options.format, options.quiet === true, entries.map(serviceRow));
    });

  service
    .command('ps')
    .usage('[OPTIONS] SERVICE [SERVICE...]')
    .description('List the tasks of one or more services')
    .argument('<service...>')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collectFilter, [])
    .option('--format <string>', 'Pretty-print tasks using a Go template')
    .option('--no-resolve', 'Do not map IDs to Names')
    .option('--no-trunc', 'Do not truncate output')
    .option('-q, --quiet', 'Only display task IDs')
    .action(async (refs: string[], o: { quiet?: boolean; trunc: boolean; resolve: boolean; filter: [string, string][]; format?: string }) => {
      const api = client();
      // Every service must exist, as Docker's CLI checks before listing.
      const services = await Promise.all(refs.map((ref) => api.serviceInspect(ref)));
      const tasks = await filteredTasks(api, { services: services.map((s) => s.id) }, o.filter);
      printTasks(tasks, o.resolve ? await nodeNames(api) : new Map(), { ...(o.quiet ? { quiet: true } : {}), ...(o.format !== undefined ? { format: o.format } : {}), trunc: o.trunc });
    });

  service
    .command('inspect')
    .usage('[OPTIONS] SERVICE [SERVICE...]')
    .description('Display detailed information on one or more services')
    .argument('<service...>')
    .option('-f, --format <string>', INSPECT_FORMAT_HELP)
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], options: { pretty?: boolean; format?: string }) => {
      const api = client();
      if (options.pretty && options.format) throw cliError('PRETTY_WITH_FORMAT');
      if (!options.pretty) return printInspect(refs, (ref) => api.serviceInspect(ref), { format: options.format ?? '', shape: dockerService });
      const services = [];
      for (const ref of refs) services.push(await api.serviceInspect(ref));
      print(services.map((s) => [
        `ID:\t\t${s.id}`, `Name:\t\t${s.spec.name}`,
        `Service Mode:\t${s.spec.mode.kind === 'replicated' ? `Replicated\n Replicas:\t${s.spec.mode.replicas}` : 'Global'}`,
        ...(s.updateStatus ? [`UpdateStatus:\n State:\t\t${s.updateStatus.state}\n Message:\t${s.updateStatus.message}`] : []),
        `ContainerSpec:\n Image:\t\t${s.spec.taskTemplate.container.image}${s.spec.taskTemplate.container.args.length ? `\n Args:\t\t${s.spec.taskTemplate.container.args.join(' ')}` : ''}`,
      ].join('\n')).join('\n\n'));
    });

  service
    .command('scale')
    .usage('SERVICE=REPLICAS [SERVICE=REPLICAS...]')
    .description('Scale one or multiple replicated services')
    .argument('<service=replicas...>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .action(async (pairs: string[], options: { detach?: boolean }) => {
      const api = client();
      for (const pair of pairs) {
        const [ref, count] = pair.split('=');
        if (!ref || count === undefined) throw cliError('FLAG_ERROR', `invalid scale specifier '${pair}'`, 'skep service scale SERVICE=REPLICAS [SERVICE=REPLICAS...]', 'skep service scale');
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

  addUpdateFlags(service.command('update'))
    .usage('[OPTIONS] SERVICE')
    .description('Update a service')
    .argument('<service>')
    .action(async (ref: string, o: UpdateFlags) => {
      checkRollbackAlone(o);
      const api = client();
      const current = await api.serviceInspect(ref);
      if (o.rollback) await api.serviceUpdate(ref, current.spec, { rollback: true });
      else await api.serviceUpdate(ref, updateSpec(current.spec, o), {});
      print(ref);
      if (!o.detach && !o.quiet) await showProgress(api, current.id, ref);
    });

  service
    .command('rollback')
    .usage('[OPTIONS] SERVICE')
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
    .usage('[OPTIONS] SERVICE')
    .description('Fetch the logs of a service')
    .argument('<service>')
    .option('-f, --follow', 'Follow log output')
    .option('--no-resolve', 'Do not map IDs to Names in output')
    .option('--no-task-ids', 'Do not include task IDs in output')
    .option('--no-trunc', 'Do not truncate output')
    .option('--raw', 'Do not neatly format logs')
    .option('--since <string>', 'Show logs since a relative time (e.g. 42m for 42 minutes)', durationFlag)
    .option('-n, --tail <string>', 'Number of lines to show from the end of the logs (default "all")')
    .option('-t, --timestamps', 'Show timestamps')
    .action(async (ref: string, o: LogFlags) => {
      if (o.tail !== undefined && o.tail !== 'all' && !/^\d+$/.test(o.tail)) throw skepError('LOGS_TAIL_INVALID', o.tail);
      const tail = o.tail === undefined || o.tail === 'all' ? undefined : Number(o.tail);
      const request = {
        ...(tail !== undefined ? { tail } : {}),
        ...(o.since !== undefined ? { sinceSeconds: Math.floor((Date.now() - o.since) / 1000) } : {}),
      };
      const write = (line: ServiceLogLine): void => {
        (line.stream === 'stderr' ? process.stderr : process.stdout).write(logLineText(line, o) + '\n');
      };
      const api = client();
      if (!o.follow) {
        for (const line of await api.serviceLogs(ref, request)) write(line);
        return;
      }
      // Until Ctrl-C (the connection closes and the daemon stops every follow) or the service is removed.
      await api.followServiceLogs(ref, request, (lines) => lines.forEach(write));
    });

  service
    .command('rm')
    .alias('remove')
    .usage('SERVICE [SERVICE...]')
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
