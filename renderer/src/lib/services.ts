// Services as the window shows them: a state per service, tasks grouped by slot with their history,
// log prefixes, the create form turned into a spec, and a refusal placed next to the field it is
// about. Pure (no DOM, no API), so the components stay small and these rules are tested directly.
import { skepError, SkepError, type ErrorCode } from '../../../shared/errors.js';
import type { ServiceSpecInput } from '../../../shared/service-schema.js';
import { isTaskTerminal, taskName, type PortConfig, type RestartCondition, type Service, type ServiceListEntry, type ServiceLogLine, type Task, type TaskState } from '../../../shared/services.js';
import type { SwarmNode } from '../../../shared/types.js';

export const shortId = (id: string): string => id.slice(0, 12);
export const capital = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/** A task the orchestrator still wants (Swarm's `desired-state=running`; READY is a delayed restart). */
export function isCurrent(task: Task): boolean {
  return task.desiredState === 'running' || task.desiredState === 'ready';
}

// ---- slots and history ----

/** Replicated tasks belong to a slot; a global task's slot is its node. */
export function slotKey(task: Pick<Task, 'slot' | 'nodeId'>): string {
  return task.slot > 0 ? `slot:${task.slot}` : `node:${task.nodeId}`;
}

export interface SlotHistory {
  readonly key: string;
  /** Docker's task name: `<service>.<slot>` or `<service>.<node ID>`. */
  readonly name: string;
  /** The newest task of the slot: the one `service ps` shows first. */
  readonly current: Task;
  /** Older tasks of the slot, newest first (shown under it with ` \_ `). */
  readonly previous: readonly Task[];
}

/** `service ps` order: by slot (or node), newest task first within it. */
export function slotHistories(tasks: readonly Task[]): SlotHistory[] {
  const bySlot = new Map<string, Task[]>();
  for (const task of tasks) {
    const key = slotKey(task);
    const list = bySlot.get(key) ?? [];
    list.push(task);
    bySlot.set(key, list);
  }
  const histories = [...bySlot.entries()].map(([key, list]) => {
    // A current task outranks an older shut-down one of the same slot, whatever the clocks say.
    const sorted = list.sort((a, b) => Number(isCurrent(b)) - Number(isCurrent(a)) || b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    const [current, ...previous] = sorted as [Task, ...Task[]];
    return { key, name: taskName(current), current, previous };
  });
  return histories.sort((a, b) => a.current.slot - b.current.slot || a.current.nodeId.localeCompare(b.current.nodeId));
}

// ---- a service's state ----

export type ServiceStateKind = 'converged' | 'converging' | 'updating' | 'paused' | 'rolling-back' | 'no-suitable-node' | 'failing';

export interface ServiceState {
  readonly kind: ServiceStateKind;
  /** A word or two for the list. */
  readonly label: string;
  /** Why, when there is more to say: Swarm's own message or the task's error. */
  readonly detail: string;
}

/**
 * Told from the service's update status first (Swarm's words), then from its current tasks: any on
 * an older spec → updating; all running → converged; a task the scheduler can't place → its "no suitable node (…)"; a slot whose
 * last task failed → that error; otherwise it is still converging.
 */
export function serviceState(entry: ServiceListEntry, tasks: readonly Task[]): ServiceState {
  const update = entry.service.updateStatus;
  if (update?.state === 'updating') return { kind: 'updating', label: 'Updating', detail: update.message };
  if (update?.state === 'rollback_started') return { kind: 'rolling-back', label: 'Rolling back', detail: update.message };
  if (update?.state === 'paused') return { kind: 'paused', label: 'Update paused', detail: update.message };
  if (update?.state === 'rollback_paused') return { kind: 'paused', label: 'Rollback paused', detail: update.message };

  const own = tasks.filter((t) => t.serviceId === entry.service.id);
  const current = own.filter(isCurrent);
  const unplaced = current.find((t) => t.status.state === 'pending' && t.status.err !== '');
  if (unplaced) return { kind: 'no-suitable-node', label: 'No suitable node', detail: unplaced.status.err };
  // Between a spec change and the orchestrator's first step there is no update status yet, but the
  // tasks still run the old spec: that is not converged.
  const template = JSON.stringify(entry.service.spec.taskTemplate);
  const stale = current.filter((t) => JSON.stringify(t.spec) !== template).length;
  if (stale > 0) return { kind: 'updating', label: 'Updating', detail: `${current.length - stale} of ${current.length} tasks updated` };
  if (entry.running >= entry.desired) return { kind: 'converged', label: 'Converged', detail: '' };
  const failed = slotHistories(own)
    .filter((h) => h.current.status.state !== 'running')
    .flatMap((h) => [h.current, ...h.previous].filter((t) => t.status.err !== '').slice(0, 1));
  if (failed[0]) return { kind: 'failing', label: 'Failing', detail: failed[0].status.err };
  return { kind: 'converging', label: 'Converging', detail: `${entry.running} of ${entry.desired} tasks running` };
}

// ---- progress of a create, scale or update ----

export interface SlotProgress {
  readonly key: string;
  readonly name: string;
  readonly state: TaskState;
  /** Steps from NEW (1) to RUNNING (7), as Docker's progress bars count them. */
  readonly step: number;
  readonly err: string;
  readonly upToDate: boolean;
}

const STEPS: Partial<Record<TaskState, number>> = { new: 1, pending: 1, assigned: 2, accepted: 3, preparing: 4, ready: 5, starting: 6, running: 7 };
export const RUNNING_STEP = 7;

export interface Progress {
  /** Slots whose current task runs the service's current spec. */
  readonly done: number;
  readonly total: number;
  readonly slots: readonly SlotProgress[];
}

/** Docker's "overall progress: N out of M tasks", one line per slot. */
export function progressOf(service: Service, tasks: readonly Task[]): Progress {
  const current = slotHistories(tasks.filter((t) => t.serviceId === service.id && isCurrent(t)));
  const template = JSON.stringify(service.spec.taskTemplate);
  const slots = current.map((h): SlotProgress => {
    const state = h.current.status.state;
    const upToDate = JSON.stringify(h.current.spec) === template;
    return { key: h.key, name: h.name, state, step: STEPS[state] ?? 0, err: h.current.status.err, upToDate };
  });
  const total = service.spec.mode.kind === 'replicated' ? service.spec.mode.replicas : slots.length;
  const done = slots.filter((s) => s.state === 'running' && s.upToDate).length;
  return { done: Math.min(done, total), total, slots };
}

// ---- tasks on nodes ----

/** Tasks a node is asked to run now (desired RUNNING), per node ID. */
export function tasksByNode(tasks: readonly Task[]): Map<string, Task[]> {
  const byNode = new Map<string, Task[]>();
  for (const task of tasks) {
    if (task.nodeId === '' || !isCurrent(task) || isTaskTerminal(task.status.state)) continue;
    const list = byNode.get(task.nodeId) ?? [];
    list.push(task);
    byNode.set(task.nodeId, list);
  }
  for (const list of byNode.values()) list.sort((a, b) => taskName(a).localeCompare(taskName(b), undefined, { numeric: true }));
  return byNode;
}

export function hostnames(nodes: readonly SwarmNode[] | undefined): Map<string, string> {
  return new Map((nodes ?? []).map((n) => [n.id, n.description.hostname]));
}

// ---- logs ----

/** Docker's `<service>.<slot>.<task>@<node>` prefix. */
export function logPrefix(line: ServiceLogLine): string {
  const slot = line.slot > 0 ? String(line.slot) : line.nodeId;
  return `${line.serviceName}.${slot}.${shortId(line.taskId)}@${line.hostname}`;
}

export function logLineKey(line: ServiceLogLine): string {
  return `${line.taskId}\u0000${line.timestamp ?? ''}\u0000${line.stream}\u0000${line.text}`;
}

// ---- ports ----

export function portsText(ports: readonly PortConfig[]): string {
  return ports.map((p) => `*:${p.publishedPort}->${p.targetPort}/${p.protocol}`).join(', ');
}

// ---- the create form ----

export interface PortRow {
  published: string;
  target: string;
  protocol: PortConfig['protocol'];
}

export interface ServiceForm {
  name: string;
  image: string;
  /** Replaces the image's CMD, as `service create IMAGE [COMMAND] [ARG...]` does; shell quoting. */
  command: string;
  mode: 'replicated' | 'global';
  replicas: string;
  /** KEY=VALUE, one a line. */
  env: string;
  ports: PortRow[];
  /** One constraint a line, e.g. node.role==worker. */
  constraints: string;
  restartCondition: RestartCondition;
  /** CPUs, e.g. 0.5; empty: no limit. */
  limitCpu: string;
  /** A number of MiB; empty: no limit. */
  limitMemoryMiB: string;
}

export type FormField = 'name' | 'image' | 'replicas' | 'env' | 'ports' | 'constraints' | 'restartCondition' | 'limitCpu' | 'limitMemory' | 'form';

export function emptyForm(): ServiceForm {
  return { name: '', image: '', command: '', mode: 'replicated', replicas: '1', env: '', ports: [], constraints: '', restartCondition: 'any', limitCpu: '', limitMemoryMiB: '' };
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** Words as a POSIX shell splits them: whitespace apart, '…' literal, "…" with \ escapes. */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (c === '\\' && i + 1 < text.length && (quote === undefined || '"\\$`'.includes(text[i + 1]!))) {
      word = (word ?? '') + text[++i];
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** An empty field is "not set" (0); anything else is sent as typed, so the node's checks say what is wrong. */
function optionalNumber(text: string): number {
  return text.trim() === '' ? 0 : Number(text.trim());
}

/** The form as the API's spec; Swarm's defaults fill what the form doesn't ask. */
export function specFromForm(form: ServiceForm): { ok: true; spec: ServiceSpecInput } | { ok: false; field: FormField; error: SkepError } {
  const ports: PortConfig[] = [];
  for (const row of form.ports) {
    if (row.target.trim() === '' && row.published.trim() === '') continue;
    // Docker's port parser would refuse these before anything is sent; its text is in the catalog.
    for (const [field, raw] of [['target', row.target.trim()], ['published', row.published.trim()]] as const) {
      if (raw !== '' && !/^\d+$/.test(raw)) return { ok: false, field: 'ports', error: skepError('PORT_INVALID', field, raw, 'invalid syntax') };
    }
    ports.push({ protocol: row.protocol, targetPort: Number(row.target.trim() || '0'), publishedPort: Number(row.published.trim() || '0'), publishMode: 'host' });
  }
  const cpus = optionalNumber(form.limitCpu);
  const memoryMiB = optionalNumber(form.limitMemoryMiB);
  const spec: ServiceSpecInput = {
    name: form.name.trim(),
    mode: form.mode === 'global' ? { kind: 'global' } : { kind: 'replicated', replicas: form.replicas.trim() === '' ? Number.NaN : Number(form.replicas.trim()) },
    taskTemplate: {
      container: { image: form.image.trim(), args: splitCommand(form.command), env: lines(form.env) },
      resources: { limits: { nanoCpus: Number.isFinite(cpus) ? Math.round(cpus * 1e9) : cpus, memoryBytes: Number.isFinite(memoryMiB) ? Math.round(memoryMiB * 1024 * 1024) : memoryMiB } },
      restartPolicy: { condition: form.restartCondition },
      placement: { constraints: lines(form.constraints) },
    },
    endpointSpec: { ports },
  };
  return { ok: true, spec };
}

const FIELD_OF_CODE: Partial<Record<ErrorCode, FormField>> = {
  SERVICE_NAME_REQUIRED: 'name',
  SERVICE_NAME_INVALID: 'name',
  SERVICE_NAME_TOO_LONG: 'name',
  SERVICE_NAME_CONFLICT: 'name',
  SERVICE_IMAGE_REQUIRED: 'image',
  SERVICE_IMAGE_INVALID: 'image',
  SERVICE_REPLICAS_NEGATIVE: 'replicas',
  PORT_INVALID: 'ports',
  PORT_DUPLICATE: 'ports',
  CONSTRAINT_NO_OPERATOR: 'constraints',
  CONSTRAINT_KEY_INVALID: 'constraints',
  CONSTRAINT_VALUE_INVALID: 'constraints',
  SERVICE_CPU_TOO_SMALL: 'limitCpu',
  SERVICE_MEMORY_TOO_SMALL: 'limitMemory',
};

// A malformed value (not a number) comes back as INVALID_REQUEST naming the spec's path.
const FIELD_OF_PATH: readonly [RegExp, FormField][] = [
  [/^name\b/, 'name'],
  [/^mode\b/, 'replicas'],
  [/^taskTemplate\.container\.image\b/, 'image'],
  [/^taskTemplate\.container\.env\b/, 'env'],
  [/^taskTemplate\.resources\.limits\.nanoCpus\b/, 'limitCpu'],
  [/^taskTemplate\.resources\.limits\.memoryBytes\b/, 'limitMemory'],
  [/^taskTemplate\.restartPolicy\b/, 'restartCondition'],
  [/^taskTemplate\.placement\.constraints\b/, 'constraints'],
  [/^endpointSpec\b/, 'ports'],
];

/** Which field a refusal of create is about; 'form' when it is about none of them. */
export function fieldOfError(error: unknown): FormField {
  if (!(error instanceof SkepError)) return 'form';
  const byCode = FIELD_OF_CODE[error.code];
  if (byCode) return byCode;
  if (error.code === 'INVALID_REQUEST') {
    const path = /^invalid request: ([\w.]+):/.exec(error.message)?.[1] ?? '';
    return FIELD_OF_PATH.find(([pattern]) => pattern.test(path))?.[1] ?? 'form';
  }
  return 'form';
}

// ---- times ----

/** Go's units.HumanDuration as Docker's CURRENT STATE column uses it ("Running 2 minutes ago"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  return `${Math.floor(hours / 24)} days`;
}

/** "Running about a minute ago": Docker's task formatter lower-cases the duration. */
export function currentStateText(task: Task, now: number): string {
  return `${capital(task.status.state)} ${humanDuration(Math.max(0, now - Date.parse(task.status.timestamp))).toLowerCase()} ago`;
}
