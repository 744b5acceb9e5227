// The flags of `service create` and `service update` with Docker's names, help texts and parsing
// (docker/cli cli/command/service/opts.go, create.go, update.go), and what they make of a spec:
// create builds one from the flags (Swarm's defaults fill the rest); update changes only what a
// given flag names, as docker/cli's updateService does. Refusals are Docker's, before any call.
import type { Command } from 'commander';
import type { ServiceSpecInput } from '../../shared/service-schema.js';
import type { HealthConfig, Mount, PortConfig, ServiceSpec, UpdateConfig } from '../../shared/services.js';
import { skepError } from '../../shared/errors.js';
import { cliError } from './output.js';
import {
  durationFlag,
  envFlag,
  floatFlag,
  intFlag,
  keyValues,
  labelFlag,
  memoryBytesFlag,
  mountFlag,
  nanoCpusFlag,
  placementPrefFlag,
  portFlag,
  positiveDurationFlag,
  uintFlag,
} from './service-values.js';

const list =
  <T>(parse: (value: string) => T) =>
  (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];
const strings = list((value: string) => value);

/** The flags both commands share: what a task runs with and how updates and rollbacks go. */
export interface CommonFlags {
  limitCpu?: number;
  limitMemory?: number;
  reserveCpu?: number;
  reserveMemory?: number;
  replicasMaxPerNode?: number;
  restartCondition?: string;
  restartDelay?: number;
  restartMaxAttempts?: number;
  restartWindow?: number;
  updateParallelism?: number;
  updateDelay?: number;
  updateMonitor?: number;
  updateFailureAction?: string;
  updateMaxFailureRatio?: number;
  updateOrder?: string;
  rollbackParallelism?: number;
  rollbackDelay?: number;
  rollbackMonitor?: number;
  rollbackFailureAction?: string;
  rollbackMaxFailureRatio?: number;
  rollbackOrder?: string;
  healthCmd?: string;
  healthInterval?: number;
  healthTimeout?: number;
  healthRetries?: number;
  healthStartPeriod?: number;
  /** false with --no-healthcheck (commander's negatable flag). */
  healthcheck: boolean;
  stopGracePeriod?: number;
  entrypoint?: string;
  hostname?: string;
  replicas?: number;
  detach?: boolean;
  quiet?: boolean;
}

export interface CreateFlags extends CommonFlags {
  name?: string;
  mode: string;
  constraint?: string[];
  placementPref?: string[];
  env?: string[];
  label?: string[];
  containerLabel?: string[];
  publish?: PortConfig[];
  mount?: Mount[];
}

export interface UpdateFlags extends CommonFlags {
  image?: string;
  args?: string;
  rollback?: boolean;
  envAdd?: string[];
  envRm?: string[];
  labelAdd?: string[];
  labelRm?: string[];
  containerLabelAdd?: string[];
  containerLabelRm?: string[];
  constraintAdd?: string[];
  constraintRm?: string[];
  placementPrefAdd?: string[];
  placementPrefRm?: string[];
  publishAdd?: PortConfig[];
  publishRm?: PortConfig[];
  mountAdd?: Mount[];
  mountRm?: string[];
}

function addCommonFlags(command: Command): Command {
  return command
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .option('--hostname <string>', 'Container hostname')
    .option('--entrypoint <command>', 'Overwrite the default ENTRYPOINT of the image')
    .option('--limit-cpu <decimal>', 'Limit CPUs', nanoCpusFlag)
    .option('--limit-memory <bytes>', 'Limit Memory', memoryBytesFlag)
    .option('--reserve-cpu <decimal>', 'Reserve CPUs', nanoCpusFlag)
    .option('--reserve-memory <bytes>', 'Reserve Memory', memoryBytesFlag)
    .option('--stop-grace-period <duration>', 'Time to wait before force killing a container (ns|us|ms|s|m|h) (default 10s)', durationFlag)
    .option('--replicas <uint>', 'Number of tasks', uintFlag)
    .option('--replicas-max-per-node <uint>', 'Maximum number of tasks per node (default 0 = unlimited)', uintFlag)
    .option('--restart-condition <string>', 'Restart when condition is met ("none", "on-failure", "any") (default "any")')
    .option('--restart-delay <duration>', 'Delay between restart attempts (ns|us|ms|s|m|h) (default 5s)', durationFlag)
    .option('--restart-max-attempts <uint>', 'Maximum number of restarts before giving up', uintFlag)
    .option('--restart-window <duration>', 'Window used to evaluate the restart policy (ns|us|ms|s|m|h)', durationFlag)
    .option('--update-parallelism <uint>', 'Maximum number of tasks updated simultaneously (0 to update all at once) (default 1)', uintFlag)
    .option('--update-delay <duration>', 'Delay between updates (ns|us|ms|s|m|h) (default 0s)', durationFlag)
    .option('--update-monitor <duration>', 'Duration after each task update to monitor for failure (ns|us|ms|s|m|h) (default 5s)', durationFlag)
    .option('--update-failure-action <string>', 'Action on update failure ("pause", "continue", "rollback") (default "pause")')
    .option('--update-max-failure-ratio <float>', 'Failure rate to tolerate during an update (default 0)', floatFlag)
    .option('--update-order <string>', 'Update order ("start-first", "stop-first") (default "stop-first")')
    .option('--rollback-parallelism <uint>', 'Maximum number of tasks rolled back simultaneously (0 to roll back all at once) (default 1)', uintFlag)
    .option('--rollback-delay <duration>', 'Delay between task rollbacks (ns|us|ms|s|m|h) (default 0s)', durationFlag)
    .option('--rollback-monitor <duration>', 'Duration after each task rollback to monitor for failure (ns|us|ms|s|m|h) (default 5s)', durationFlag)
    .option('--rollback-failure-action <string>', 'Action on rollback failure ("pause", "continue") (default "pause")')
    .option('--rollback-max-failure-ratio <float>', 'Failure rate to tolerate during a rollback (default 0)', floatFlag)
    .option('--rollback-order <string>', 'Rollback order ("start-first", "stop-first") (default "stop-first")')
    .option('--health-cmd <string>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h)', positiveDurationFlag)
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h)', positiveDurationFlag)
    .option('--health-retries <int>', 'Consecutive failures needed to report unhealthy', intFlag)
    .option('--health-start-period <duration>', 'Start period for the container to initialize before counting retries towards unstable (ms|s|m|h)', positiveDurationFlag)
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
}

export function addCreateFlags(command: Command): Command {
  return addCommonFlags(
    command
      .option('--name <string>', 'Service name')
      .option('--mode <string>', 'Service mode ("replicated", "global")', 'replicated')
      .option('--constraint <list>', 'Placement constraints', strings)
      .option('--placement-pref <pref>', 'Add a placement preference', list(placementPrefFlag))
      .option('-e, --env <list>', 'Set environment variables', list(envFlag))
      .option('-l, --label <list>', 'Service labels', list(labelFlag))
      .option('--container-label <list>', 'Container labels', list(labelFlag))
      .option('-p, --publish <port>', 'Publish a port as a node port', list(portFlag))
      .option('--mount <mount>', 'Attach a filesystem mount to the service', list(mountFlag)),
  );
}

export function addUpdateFlags(command: Command): Command {
  return addCommonFlags(
    command
      .option('--image <string>', 'Service image tag')
      .option('--args <command>', 'Service command args')
      .option('--rollback', 'Rollback to previous specification')
      .option('--env-add <list>', 'Add or update an environment variable', list(envFlag))
      .option('--env-rm <list>', 'Remove an environment variable', strings)
      .option('--label-add <list>', 'Add or update a service label', list(labelFlag))
      .option('--label-rm <list>', 'Remove a label by its key', strings)
      .option('--container-label-add <list>', 'Add or update a container label', list(labelFlag))
      .option('--container-label-rm <list>', 'Remove a container label by its key', strings)
      .option('--constraint-add <list>', 'Add or update a placement constraint', strings)
      .option('--constraint-rm <list>', 'Remove a constraint', strings)
      .option('--placement-pref-add <pref>', 'Add a placement preference', list(placementPrefFlag))
      .option('--placement-pref-rm <pref>', 'Remove a placement preference', list(placementPrefFlag))
      .option('--publish-add <port>', 'Add or update a published port', list(portFlag))
      .option('--publish-rm <port>', 'Remove a published port by its target port', list(portFlag))
      .option('--mount-add <mount>', 'Add or update a mount on a service', list(mountFlag))
      .option('--mount-rm <list>', 'Remove a mount by its target path', strings),
  );
}

// ---- from flags to a spec ----

type UpdateConfigInput = { -readonly [K in keyof UpdateConfig]?: UpdateConfig[K] | string };

function updateConfigFlags(o: CommonFlags, prefix: 'update' | 'rollback'): UpdateConfigInput {
  const value = <K extends keyof CommonFlags>(name: K): CommonFlags[K] => o[name];
  const p = prefix;
  const out: UpdateConfigInput = {};
  const parallelism = value(`${p}Parallelism`);
  const delay = value(`${p}Delay`);
  const monitor = value(`${p}Monitor`);
  const failureAction = value(`${p}FailureAction`);
  const ratio = value(`${p}MaxFailureRatio`);
  const order = value(`${p}Order`);
  if (parallelism !== undefined) out.parallelism = parallelism;
  if (delay !== undefined) out.delayMs = delay;
  if (monitor !== undefined) out.monitorMs = monitor;
  if (failureAction !== undefined) out.failureAction = failureAction;
  if (ratio !== undefined) out.maxFailureRatio = ratio;
  if (order !== undefined) out.order = order;
  return out;
}

function anyHealthSetting(o: CommonFlags): boolean {
  return o.healthCmd !== undefined || o.healthInterval !== undefined || o.healthTimeout !== undefined || o.healthStartPeriod !== undefined || o.healthRetries !== undefined;
}

/** The daemon's refusal of a health duration under 1ms (swarmkit's validateHealthCheck), said before the call. */
function checkHealthDurations(h: HealthConfig | undefined): HealthConfig | undefined {
  if (!h) return h;
  const fields: ['Interval' | 'Timeout' | 'StartPeriod', number][] = [['Interval', h.intervalMs], ['Timeout', h.timeoutMs], ['StartPeriod', h.startPeriodMs]];
  for (const [field, ms] of fields) if (ms > 0 && ms < 1) throw skepError('SERVICE_HEALTH_DURATION', field);
  return h;
}

/** healthCheckOptions.toHealthConfig (create): --no-healthcheck is ["NONE"], and not with --health-* settings. */
function healthFromFlags(o: CommonFlags): HealthConfig | undefined {
  const settings =
    (o.healthCmd ?? '') !== '' || o.healthInterval !== undefined || o.healthTimeout !== undefined || o.healthStartPeriod !== undefined || (o.healthRetries ?? 0) !== 0;
  if (!o.healthcheck) {
    if (settings) throw cliError('HEALTHCHECK_CONFLICT');
    return { test: ['NONE'], intervalMs: 0, timeoutMs: 0, startPeriodMs: 0, retries: 0 };
  }
  if (!settings) return undefined;
  return {
    test: o.healthCmd ? ['CMD-SHELL', o.healthCmd] : [],
    intervalMs: o.healthInterval ?? 0,
    timeoutMs: o.healthTimeout ?? 0,
    startPeriodMs: o.healthStartPeriod ?? 0,
    retries: o.healthRetries ?? 0,
  };
}

/** Docker's shlex for --entrypoint and --args: words, quotes grouping, backslash escapes. */
export function shellWords(value: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < value.length) word += value[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < value.length) {
      word += value[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** serviceOptions.ToService for `service create`. */
export function createSpec(image: string, args: readonly string[], o: CreateFlags): ServiceSpecInput {
  const mode = o.mode;
  if (mode !== 'replicated' && mode !== 'global') throw cliError('SERVICE_MODE_UNKNOWN', mode);
  if (mode === 'global' && o.replicas !== undefined) throw cliError('SERVICE_REPLICAS_GLOBAL');
  if (mode === 'global' && o.replicasMaxPerNode !== undefined) throw cliError('SERVICE_MAX_REPLICAS_GLOBAL');
  const healthcheck = checkHealthDurations(healthFromFlags(o));
  const restart = {
    ...(o.restartCondition !== undefined ? { condition: o.restartCondition } : {}),
    ...(o.restartDelay !== undefined ? { delayMs: o.restartDelay } : {}),
    ...(o.restartMaxAttempts !== undefined ? { maxAttempts: o.restartMaxAttempts } : {}),
    ...(o.restartWindow !== undefined ? { windowMs: o.restartWindow } : {}),
  };
  const spec = {
    name: o.name ?? '',
    labels: keyValues(o.label ?? []),
    mode: mode === 'global' ? { kind: 'global' as const } : { kind: 'replicated' as const, replicas: o.replicas ?? 1 },
    taskTemplate: {
      container: {
        image,
        args: [...args],
        ...(o.entrypoint !== undefined ? { command: shellWords(o.entrypoint) } : {}),
        env: o.env ?? [],
        labels: keyValues(o.containerLabel ?? []),
        mounts: o.mount ?? [],
        ...(healthcheck ? { healthcheck } : {}),
        ...(o.stopGracePeriod !== undefined ? { stopGracePeriodMs: o.stopGracePeriod } : {}),
        ...(o.hostname !== undefined ? { hostname: o.hostname } : {}),
      },
      resources: {
        limits: { nanoCpus: o.limitCpu ?? 0, memoryBytes: o.limitMemory ?? 0 },
        reservations: { nanoCpus: o.reserveCpu ?? 0, memoryBytes: o.reserveMemory ?? 0 },
      },
      restartPolicy: restart,
      placement: {
        constraints: o.constraint ?? [],
        preferences: (o.placementPref ?? []).map((spread) => ({ spread })),
        maxReplicas: o.replicasMaxPerNode ?? 0,
      },
    },
    updateConfig: updateConfigFlags(o, 'update'),
    rollbackConfig: updateConfigFlags(o, 'rollback'),
    endpointSpec: { ports: o.publish ?? [] },
  };
  // Strings the daemon checks (failure action, order, restart condition) travel as given, so its refusal is Docker's.
  return spec as unknown as ServiceSpecInput;
}

/** The flags given besides --rollback, --detach and --quiet (docker/cli refuses to combine them). */
function changesSomething(o: UpdateFlags): boolean {
  const ignored = new Set(['rollback', 'detach', 'quiet', 'healthcheck']);
  return Object.entries(o).some(([key, value]) => !ignored.has(key) && value !== undefined) || o.healthcheck === false;
}

/** docker/cli's `update --rollback` check: nothing else may be asked for with it. */
export function checkRollbackAlone(o: UpdateFlags): void {
  if (o.rollback && changesSomething(o)) throw cliError('SERVICE_ROLLBACK_WITH_FLAGS');
}

function withoutKeys(map: Readonly<Record<string, string>>, keys: readonly string[] | undefined): Record<string, string> {
  const out = { ...map };
  for (const key of keys ?? []) delete out[key];
  return out;
}

const envKey = (entry: string): string => (entry.includes('=') ? entry.slice(0, entry.indexOf('=')) : entry);

function updatedEnv(env: readonly string[], o: UpdateFlags): string[] {
  const removed = new Set(o.envRm ?? []);
  const kept = env.filter((entry) => !removed.has(envKey(entry)));
  if (!o.envAdd) return kept;
  const byKey = new Map(kept.map((entry) => [envKey(entry), entry]));
  for (const entry of o.envAdd) byKey.set(envKey(entry), entry);
  return [...byKey.values()];
}

function updatedMounts(mounts: readonly Mount[], o: UpdateFlags): readonly Mount[] {
  if (!o.mountAdd && !o.mountRm) return mounts;
  const byTarget = new Map<string, Mount>();
  for (const mount of o.mountAdd ?? []) {
    if (byTarget.has(mount.target)) throw cliError('MOUNT_DUPLICATE_TARGET');
    byTarget.set(mount.target, mount);
  }
  for (const mount of mounts) if (!byTarget.has(mount.target)) byTarget.set(mount.target, mount);
  const removed = new Set(o.mountRm ?? []);
  return [...byTarget.values()]
    .filter((mount) => !removed.has(mount.target))
    .sort((a, b) => (a.source === b.source ? (a.target < b.target ? -1 : 1) : a.source < b.source ? -1 : 1));
}

/** updateHealthcheck: only what a flag names changes; --no-healthcheck alone is ["NONE"]. */
function updatedHealth(current: HealthConfig | undefined, o: UpdateFlags): HealthConfig | undefined {
  if (o.healthcheck && !anyHealthSetting(o)) return current;
  if (!o.healthcheck) {
    if (anyHealthSetting(o)) throw cliError('HEALTHCHECK_CONFLICT');
    return { test: ['NONE'], intervalMs: 0, timeoutMs: 0, startPeriodMs: 0, retries: 0 };
  }
  const base = current ?? { test: [], intervalMs: 0, timeoutMs: 0, startPeriodMs: 0, retries: 0 };
  const test = base.test[0] === 'NONE' ? [] : base.test;
  return {
    test: o.healthCmd === undefined ? test : o.healthCmd === '' ? [] : ['CMD-SHELL', o.healthCmd],
    intervalMs: o.healthInterval ?? base.intervalMs,
    timeoutMs: o.healthTimeout ?? base.timeoutMs,
    startPeriodMs: o.healthStartPeriod ?? base.startPeriodMs,
    retries: o.healthRetries ?? base.retries,
  };
}

function updatedPorts(ports: readonly PortConfig[], o: UpdateFlags): readonly PortConfig[] {
  if (!o.publishAdd && !o.publishRm) return ports;
  const same = (a: PortConfig, b: PortConfig): boolean => a.targetPort === b.targetPort && a.protocol === b.protocol;
  const kept = ports.filter((p) => !(o.publishRm ?? []).some((r) => same(p, r)) && !(o.publishAdd ?? []).some((a) => same(p, a) && a.publishedPort === p.publishedPort));
  return [...kept, ...(o.publishAdd ?? [])].sort((a, b) => a.publishedPort - b.publishedPort || a.targetPort - b.targetPort);
}

/** docker/cli's updateService: the current spec with only what the flags name changed. */
export function updateSpec(spec: ServiceSpec, o: UpdateFlags): ServiceSpec {
  if (o.replicas !== undefined && spec.mode.kind !== 'replicated') throw cliError('SERVICE_UPDATE_REPLICAS_GLOBAL');
  const task = spec.taskTemplate;
  const c = task.container;
  const healthcheck = checkHealthDurations(updatedHealth(c.healthcheck, o));
  const constraints = [...task.placement.constraints, ...(o.constraintAdd ?? [])].filter((x) => !(o.constraintRm ?? []).includes(x));
  const removedPrefs = new Set(o.placementPrefRm ?? []);
  const restart = task.restartPolicy;
  const updated = {
    ...spec,
    labels: { ...withoutKeys(spec.labels, o.labelRm), ...keyValues(o.labelAdd ?? []) },
    mode: o.replicas !== undefined ? { kind: 'replicated' as const, replicas: o.replicas } : spec.mode,
    taskTemplate: {
      ...task,
      container: {
        ...c,
        image: o.image ?? c.image,
        args: o.args !== undefined ? shellWords(o.args) : c.args,
        command: o.entrypoint !== undefined ? shellWords(o.entrypoint) : c.command,
        env: updatedEnv(c.env, o),
        labels: { ...withoutKeys(c.labels, o.containerLabelRm), ...keyValues(o.containerLabelAdd ?? []) },
        mounts: updatedMounts(c.mounts, o),
        ...(healthcheck ? { healthcheck } : {}),
        stopGracePeriodMs: o.stopGracePeriod ?? c.stopGracePeriodMs,
        hostname: o.hostname ?? c.hostname,
      },
      resources: {
        limits: { nanoCpus: o.limitCpu ?? task.resources.limits.nanoCpus, memoryBytes: o.limitMemory ?? task.resources.limits.memoryBytes },
        reservations: { nanoCpus: o.reserveCpu ?? task.resources.reservations.nanoCpus, memoryBytes: o.reserveMemory ?? task.resources.reservations.memoryBytes },
      },
      restartPolicy: {
        condition: o.restartCondition ?? restart.condition,
        delayMs: o.restartDelay ?? restart.delayMs,
        maxAttempts: o.restartMaxAttempts ?? restart.maxAttempts,
        windowMs: o.restartWindow ?? restart.windowMs,
      },
      placement: {
        ...task.placement,
        // Sorted so the result is predictable, as docker/cli does.
        constraints: o.constraintAdd || o.constraintRm ? constraints.sort() : task.placement.constraints,
        preferences: [...task.placement.preferences.filter((p) => !removedPrefs.has(p.spread)), ...(o.placementPrefAdd ?? []).map((spread) => ({ spread }))],
        maxReplicas: o.replicasMaxPerNode ?? task.placement.maxReplicas,
      },
    },
    updateConfig: { ...spec.updateConfig, ...updateConfigFlags(o, 'update') },
    rollbackConfig: { ...spec.rollbackConfig, ...updateConfigFlags(o, 'rollback') },
    endpointSpec: { ports: updatedPorts(spec.endpointSpec.ports, o) },
  };
  return updated as unknown as ServiceSpec;
}
