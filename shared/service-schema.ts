// The ServiceSpec schema the control API checks every create and update with: the shape with zod,
// then Swarm's own checks with Docker's texts (swarmkit controlapi/service.go, the CLI's port
// parser). Defaults are Swarm's. Kept apart from services.ts so the renderer's bundle doesn't carry zod.
import { z } from 'zod';
import { parseConstraints, ENGINE_LABEL_PREFIX, NODE_LABEL_PREFIX } from './constraints.js';
import { SkepError, skepError, type ERROR_CATALOG, type ErrorCode } from './errors.js';
import {
  DEFAULT_RESTART_POLICY,
  DEFAULT_STOP_GRACE_PERIOD_MS,
  DEFAULT_UPDATE_CONFIG,
  MIN_MEMORY_BYTES,
  MIN_NANO_CPUS,
  type Resources,
  type ServiceSpec,
  type UpdateConfig,
} from './services.js';

// Bounds that keep one request from asking for unbounded work; they are not Swarm's rules.
const MAX_LIST = 1000;
const text = z.string().max(4096);
const labels = z.record(z.string().min(1).max(200), z.string().max(4096));
const count = z.number().int();
// Durations in milliseconds; negative values pass the shape so the check below can say Docker's words.
const durationMs = z.number().int();

const resources = z.strictObject({ nanoCpus: count.default(0), memoryBytes: count.default(0) });

const updateConfig = z.strictObject({
  parallelism: count.min(0).default(DEFAULT_UPDATE_CONFIG.parallelism),
  delayMs: durationMs.default(DEFAULT_UPDATE_CONFIG.delayMs),
  // Free strings in the shape: an unknown one gets Docker's own refusal from the checks below.
  failureAction: z.string().max(100).default(DEFAULT_UPDATE_CONFIG.failureAction),
  monitorMs: durationMs.default(DEFAULT_UPDATE_CONFIG.monitorMs),
  maxFailureRatio: z.number().default(DEFAULT_UPDATE_CONFIG.maxFailureRatio),
  order: z.string().max(100).default(DEFAULT_UPDATE_CONFIG.order),
});

const port = z.strictObject({
  protocol: z.enum(['tcp', 'udp', 'sctp']).default('tcp'),
  targetPort: z.number(),
  publishedPort: z.number().default(0),
  publishMode: z.literal('host').default('host'),
});

const taskTemplate = z.strictObject({
  container: z.strictObject({
    image: z.string().max(512),
    command: z.array(text).max(MAX_LIST).default([]),
    args: z.array(text).max(MAX_LIST).default([]),
    env: z.array(text).max(MAX_LIST).default([]),
    labels: labels.default({}),
    mounts: z
      .array(z.strictObject({ type: z.string().max(100), source: text.default(''), target: text.min(1), readOnly: z.boolean().default(false) }))
      .max(MAX_LIST)
      .default([]),
    healthcheck: z
      .strictObject({
        test: z.array(text).max(MAX_LIST),
        intervalMs: durationMs.default(0),
        timeoutMs: durationMs.default(0),
        startPeriodMs: durationMs.default(0),
        retries: count.default(0),
      })
      .optional(),
    stopGracePeriodMs: durationMs.min(0).default(DEFAULT_STOP_GRACE_PERIOD_MS),
    hostname: z.string().max(253).default(''),
  }),
  resources: z
    .strictObject({ limits: resources.default({ nanoCpus: 0, memoryBytes: 0 }), reservations: resources.default({ nanoCpus: 0, memoryBytes: 0 }) })
    .default({ limits: { nanoCpus: 0, memoryBytes: 0 }, reservations: { nanoCpus: 0, memoryBytes: 0 } }),
  restartPolicy: z
    .strictObject({
      condition: z.string().max(100).default(DEFAULT_RESTART_POLICY.condition),
      delayMs: durationMs.default(DEFAULT_RESTART_POLICY.delayMs),
      maxAttempts: count.min(0).default(DEFAULT_RESTART_POLICY.maxAttempts),
      windowMs: durationMs.default(DEFAULT_RESTART_POLICY.windowMs),
    })
    .default(DEFAULT_RESTART_POLICY),
  placement: z
    .strictObject({
      constraints: z.array(text).max(MAX_LIST).default([]),
      preferences: z.array(z.strictObject({ spread: z.string().max(300) })).max(MAX_LIST).default([]),
      maxReplicas: count.min(0).default(0),
      platforms: z.array(z.strictObject({ os: z.string().max(100).default(''), architecture: z.string().max(100).default('') })).max(MAX_LIST).default([]),
    })
    .default({ constraints: [], preferences: [], maxReplicas: 0, platforms: [] }),
});

const shape = z.strictObject({
  name: z.string().max(1000).default(''),
  labels: labels.default({}),
  mode: z
    .discriminatedUnion('kind', [z.strictObject({ kind: z.literal('replicated'), replicas: count.default(1) }), z.strictObject({ kind: z.literal('global') })])
    .default({ kind: 'replicated', replicas: 1 }),
  taskTemplate,
  updateConfig: updateConfig.default(DEFAULT_UPDATE_CONFIG),
  rollbackConfig: updateConfig.default(DEFAULT_UPDATE_CONFIG),
  endpointSpec: z.strictObject({ ports: z.array(port).max(MAX_LIST).default([]) }).default({ ports: [] }),
});

/** What a caller may send: every field with a Swarm default may be left out. */
export type ServiceSpecInput = z.input<typeof shape>;

/** What the API takes for create and update: a partial input with defaults to fill, or a complete spec read back. */
export type ServiceSpecRequest = ServiceSpecInput | ServiceSpec;

// swarmkit's isValidDNSName.
const DNS_NAME = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;

// distribution/reference's grammar: [domain[:port]/]path[:tag][@digest], path components lowercase.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const IMAGE_REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`,
);

/** Go's %g for the numbers Swarm prints (an exponent has at least two digits). */
function goFloat(n: number): string {
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2');
}

type Check = { code: ErrorCode; message: string } | null;

function fail<C extends ErrorCode>(code: C, ...args: Parameters<(typeof ERROR_CATALOG)[C]['text']>): Check {
  return { code, message: skepError(code, ...args).message };
}

function checkResources(r: Resources): Check {
  if (r.nanoCpus !== 0 && r.nanoCpus < MIN_NANO_CPUS) return fail('SERVICE_CPU_TOO_SMALL', goFloat(r.nanoCpus / 1e9));
  if (r.memoryBytes !== 0 && r.memoryBytes < MIN_MEMORY_BYTES) return fail('SERVICE_MEMORY_TOO_SMALL', r.memoryBytes);
  return null;
}

/** What moby's daemon refuses while it converts a spec for swarmkit (daemon/cluster/convert), before swarmkit's checks. */
function checkConversion(spec: ServiceSpec): Check {
  for (const mount of spec.taskTemplate.container.mounts) {
    if (mount.type !== 'bind' && mount.type !== 'volume') return fail(['tmpfs', 'npipe', 'cluster', 'image'].includes(mount.type) ? 'MOUNT_TYPE_UNSUPPORTED' : 'MOUNT_TYPE_INVALID', mount.type);
  }
  const condition: string = spec.taskTemplate.restartPolicy.condition;
  if (!['none', 'on-failure', 'any'].includes(condition)) return fail('RESTART_CONDITION_INVALID', condition);
  for (const config of [spec.updateConfig, spec.rollbackConfig]) {
    const action: string = config.failureAction;
    const order: string = config.order;
    if (!['pause', 'continue', 'rollback'].includes(action)) return fail('UPDATE_FAILURE_ACTION_INVALID', action);
    if (!['stop-first', 'start-first'].includes(order)) return fail('UPDATE_ORDER_INVALID', order);
  }
  return null;
}

function checkUpdate(u: UpdateConfig): Check {
  if (u.delayMs < 0) return fail('SERVICE_UPDATE_DELAY_NEGATIVE');
  if (u.monitorMs < 0) return fail('SERVICE_UPDATE_MONITOR_NEGATIVE');
  if (u.maxFailureRatio < 0 || u.maxFailureRatio > 1) return fail('SERVICE_UPDATE_FAILURE_RATIO');
  return null;
}

function checkPort(field: 'target' | 'published', value: number, min: number): Check {
  if (!Number.isInteger(value)) return fail('PORT_INVALID', field, String(value), 'invalid syntax');
  if (value < min || value > 65535) return fail('PORT_INVALID', field, String(value), value < 0 ? 'invalid syntax' : 'value out of range');
  return null;
}

/** Swarm's checks in swarmkit's order (validateServiceSpec): annotations, task spec, mode, update, endpoint. */
function checkSpec(spec: ServiceSpec): Check {
  const conversion = checkConversion(spec);
  if (conversion) return conversion;
  if (spec.name === '') return fail('SERVICE_NAME_REQUIRED');
  if (!DNS_NAME.test(spec.name)) return fail('SERVICE_NAME_INVALID');
  if (spec.name.length > 63) return fail('SERVICE_NAME_TOO_LONG');

  const task = spec.taskTemplate;
  const resources = checkResources(task.resources.limits) ?? checkResources(task.resources.reservations);
  if (resources) return resources;
  if (task.restartPolicy.delayMs < 0) return fail('SERVICE_RESTART_DELAY_NEGATIVE');
  if (task.restartPolicy.windowMs < 0) return fail('SERVICE_RESTART_WINDOW_NEGATIVE');
  const constraints = parseConstraints(task.placement.constraints);
  if (!constraints.ok) return { code: constraints.error.code, message: constraints.error.message };
  for (const pref of task.placement.preferences) {
    const descriptor = pref.spread.toLowerCase();
    const labelled = [NODE_LABEL_PREFIX, ENGINE_LABEL_PREFIX].some((p) => descriptor.startsWith(p) && descriptor.length > p.length);
    if (!labelled) return fail('PLACEMENT_PREFERENCE_INVALID', `spread=${pref.spread}`);
  }

  const container = task.container;
  if (container.image === '') return fail('SERVICE_IMAGE_REQUIRED');
  if (!IMAGE_REFERENCE.test(container.image)) return fail('SERVICE_IMAGE_INVALID', container.image);
  const targets = new Set<string>();
  for (const mount of container.mounts) {
    if (targets.has(mount.target)) return fail('SERVICE_DUPLICATE_MOUNT', mount.target);
    targets.add(mount.target);
  }
  const hc = container.healthcheck;
  if (hc) {
    if (hc.intervalMs !== 0 && hc.intervalMs < 1) return fail('SERVICE_HEALTH_DURATION', 'Interval');
    if (hc.timeoutMs !== 0 && hc.timeoutMs < 1) return fail('SERVICE_HEALTH_DURATION', 'Timeout');
    if (hc.startPeriodMs !== 0 && hc.startPeriodMs < 1) return fail('SERVICE_HEALTH_DURATION', 'StartPeriod');
    if (hc.retries < 0) return fail('SERVICE_HEALTH_RETRIES');
  }

  if (spec.mode.kind === 'replicated' && spec.mode.replicas < 0) return fail('SERVICE_REPLICAS_NEGATIVE');
  if (spec.mode.kind === 'global' && task.placement.maxReplicas > 0) return fail('SERVICE_MAX_REPLICAS_GLOBAL');

  const update = checkUpdate(spec.updateConfig) ?? checkUpdate(spec.rollbackConfig);
  if (update) return update;

  const published = new Set<string>();
  for (const p of spec.endpointSpec.ports) {
    const bad = checkPort('target', p.targetPort, 1) ?? checkPort('published', p.publishedPort, 0);
    if (bad) return bad;
    if (p.publishedPort === 0) continue;
    const key = `${p.protocol}/${p.publishedPort}`;
    if (published.has(key)) return fail('PORT_DUPLICATE');
    published.add(key);
  }
  return null;
}

/** The zod schema: input with defaults → a complete ServiceSpec; a failed check is an issue carrying its catalog code. */
export const serviceSpecSchema: z.ZodType<ServiceSpec, ServiceSpecInput> = shape.superRefine((spec, ctx) => {
  const failure = checkSpec(spec as ServiceSpec);
  if (failure) ctx.addIssue({ code: 'custom', message: failure.message, params: { skepCode: failure.code } });
}) as unknown as z.ZodType<ServiceSpec, ServiceSpecInput>;

/** Parses and checks a spec; a refusal is a SkepError with Docker's text (or INVALID_REQUEST for a malformed body). */
export function parseServiceSpec(input: unknown): { ok: true; spec: ServiceSpec } | { ok: false; error: SkepError } {
  const result = serviceSpecSchema.safeParse(input);
  if (result.success) return { ok: true, spec: result.data };
  const issue = result.error.issues[0]!;
  const code = (issue as { params?: { skepCode?: ErrorCode } }).params?.skepCode;
  if (code !== undefined) return { ok: false, error: new SkepError(code, issue.message) };
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return { ok: false, error: skepError('INVALID_REQUEST', `${where}${issue.message}`) };
}
