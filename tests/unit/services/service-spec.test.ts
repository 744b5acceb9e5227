// The ServiceSpec schema: Swarm's defaults filled in, and Docker's texts for bad input, table-driven;
// the task state order and its forward-only rule.
import { describe, expect, it } from 'vitest';
import { parseServiceSpec, type ServiceSpecInput } from '../../../shared/service-schema.js';
import { TASK_STATES, advanceTaskStatus, canAdvanceTaskState, rollbackServiceSpec, taskName, updateServiceSpec, type Task } from '../../../shared/services.js';
import { T0, iso, service, spec, status, task } from '../../support/swarm-services.js';

const minimal = { name: 'web', taskTemplate: { container: { image: 'nginx:1.27' } } };

function withChange(change: (s: typeof minimal) => unknown): unknown {
  return change(structuredClone(minimal));
}

describe('ServiceSpec defaults', () => {
  it('fills in Swarm’s defaults', () => {
    const parsed = parseServiceSpec(minimal);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.spec).toEqual({
      name: 'web',
      labels: {},
      mode: { kind: 'replicated', replicas: 1 },
      taskTemplate: {
        container: { image: 'nginx:1.27', command: [], args: [], env: [], labels: {}, mounts: [], stopGracePeriodMs: 10_000, hostname: '' },
        resources: { limits: { nanoCpus: 0, memoryBytes: 0 }, reservations: { nanoCpus: 0, memoryBytes: 0 } },
        restartPolicy: { condition: 'any', delayMs: 5000, maxAttempts: 0, windowMs: 0 },
        placement: { constraints: [], preferences: [], maxReplicas: 0, platforms: [] },
      },
      updateConfig: { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first' },
      rollbackConfig: { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'stop-first' },
      endpointSpec: { ports: [] },
    });
  });

  it('keeps what the caller gave', () => {
    const parsed = parseServiceSpec({
      ...minimal,
      mode: { kind: 'global' },
      endpointSpec: { ports: [{ targetPort: 80, publishedPort: 8080 }] },
      taskTemplate: { container: { image: 'registry.lan:5000/team/app@sha256:' + 'a'.repeat(64), mounts: [{ type: 'bind', source: '/srv', target: '/data' }] } },
    });
    expect(parsed.ok && parsed.spec.endpointSpec.ports[0]).toEqual({ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' });
    expect(parsed.ok && parsed.spec.mode).toEqual({ kind: 'global' });
    expect(parsed.ok && parsed.spec.taskTemplate.container.mounts).toEqual([{ type: 'bind', source: '/srv', target: '/data', readOnly: false }]);
  });
});

describe('ServiceSpec refusals, with Docker’s texts', () => {
  const container = (c: Record<string, unknown>): ServiceSpecInput => ({ name: 'web', taskTemplate: { container: { image: 'nginx', ...c } } } as ServiceSpecInput);
  it.each<[string, unknown, string, string]>([
    ['no name', { ...minimal, name: '' }, 'SERVICE_NAME_REQUIRED', 'meta: name must be provided'],
    ['a name with a dot', { ...minimal, name: 'my.web' }, 'SERVICE_NAME_INVALID', 'name must be valid as a DNS name component'],
    ['a name of 64 characters', { ...minimal, name: 'a'.repeat(64) }, 'SERVICE_NAME_TOO_LONG', 'name must be 63 characters or fewer'],
    ['negative replicas', { ...minimal, mode: { kind: 'replicated', replicas: -1 } }, 'SERVICE_REPLICAS_NEGATIVE', 'Number of replicas must be non-negative'],
    ['no image', container({ image: '' }), 'SERVICE_IMAGE_REQUIRED', 'ContainerSpec: image reference must be provided'],
    ['an upper-case image', container({ image: 'Nginx' }), 'SERVICE_IMAGE_INVALID', 'ContainerSpec: "Nginx" is not a valid repository/tag'],
    ['an image with a bad tag', container({ image: 'nginx:-x' }), 'SERVICE_IMAGE_INVALID', 'ContainerSpec: "nginx:-x" is not a valid repository/tag'],
    ['two mounts on one target', container({ mounts: [{ type: 'volume', target: '/d' }, { type: 'bind', source: '/x', target: '/d' }] }), 'SERVICE_DUPLICATE_MOUNT', 'ContainerSpec: duplicate mount point: /d'],
    ['a healthcheck interval under 1 ms', container({ healthcheck: { test: ['CMD', 'true'], intervalMs: -5 } }), 'SERVICE_HEALTH_DURATION', 'ContainerSpec: Interval in HealthConfig cannot be less than 1ms'],
    ['negative healthcheck retries', container({ healthcheck: { test: ['CMD', 'true'], retries: -1 } }), 'SERVICE_HEALTH_RETRIES', 'ContainerSpec: Retries in HealthConfig cannot be negative'],
    ['a tiny CPU reservation', withChange((s) => ({ ...s, taskTemplate: { ...s.taskTemplate, resources: { reservations: { nanoCpus: 500 } } } })), 'SERVICE_CPU_TOO_SMALL', 'invalid cpu value 5e-07: Must be at least 0.001'],
    ['a tiny memory limit', withChange((s) => ({ ...s, taskTemplate: { ...s.taskTemplate, resources: { limits: { memoryBytes: 1024 } } } })), 'SERVICE_MEMORY_TOO_SMALL', 'invalid memory value 1024: Must be at least 4MiB'],
    ['a negative restart delay', withChange((s) => ({ ...s, taskTemplate: { ...s.taskTemplate, restartPolicy: { delayMs: -1 } } })), 'SERVICE_RESTART_DELAY_NEGATIVE', 'TaskSpec: restart-delay cannot be negative'],
    ['a negative restart window', withChange((s) => ({ ...s, taskTemplate: { ...s.taskTemplate, restartPolicy: { windowMs: -1 } } })), 'SERVICE_RESTART_WINDOW_NEGATIVE', 'TaskSpec: restart-window cannot be negative'],
    ['a constraint without an operator', withChange((s) => ({ ...s, taskTemplate: { ...s.taskTemplate, placement: { constraints: ['node.role=manager'] } } })), 'CONSTRAINT_NO_OPERATOR', 'constraint expected one operator from ==, !='],
    ['a constraint with a bad key', withChange((s) => ({ ...s, taskTemplate: { ...s.taskTemplate, placement: { constraints: ['node role==manager'] } } })), 'CONSTRAINT_KEY_INVALID', "key 'node role' is invalid"],
    ['a placement preference that is not a label', withChange((s) => ({ ...s, taskTemplate: { ...s.taskTemplate, placement: { preferences: [{ spread: 'node.id' }] } } })), 'PLACEMENT_PREFERENCE_INVALID', 'unsupported placement preference spread=node.id (only spread is supported)'],
    ['max replicas on a global service', withChange((s) => ({ ...s, mode: { kind: 'global' }, taskTemplate: { ...s.taskTemplate, placement: { maxReplicas: 2 } } })), 'SERVICE_MAX_REPLICAS_GLOBAL', 'replicas-max-per-node can only be used with replicated or replicated-job mode'],
    ['a negative update delay', { ...minimal, updateConfig: { delayMs: -1 } }, 'SERVICE_UPDATE_DELAY_NEGATIVE', 'TaskSpec: update-delay cannot be negative'],
    ['a negative update monitor', { ...minimal, updateConfig: { monitorMs: -1 } }, 'SERVICE_UPDATE_MONITOR_NEGATIVE', 'TaskSpec: update-monitor cannot be negative'],
    ['a failure ratio above 1', { ...minimal, rollbackConfig: { maxFailureRatio: 1.5 } }, 'SERVICE_UPDATE_FAILURE_RATIO', 'TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1'],
    ['a published port above 65535', { ...minimal, endpointSpec: { ports: [{ targetPort: 80, publishedPort: 70000 }] } }, 'PORT_INVALID', 'invalid published port (70000): value must be an integer: strconv.ParseUint: parsing "70000": value out of range'],
    ['a target port of 0', { ...minimal, endpointSpec: { ports: [{ targetPort: 0 }] } }, 'PORT_INVALID', 'invalid target port (0): value must be an integer: strconv.ParseUint: parsing "0": value out of range'],
    ['a fractional port', { ...minimal, endpointSpec: { ports: [{ targetPort: 80.5 }] } }, 'PORT_INVALID', 'invalid target port (80.5): value must be an integer: strconv.ParseUint: parsing "80.5": invalid syntax'],
    ['the same published port twice', { ...minimal, endpointSpec: { ports: [{ targetPort: 80, publishedPort: 8080 }, { targetPort: 81, publishedPort: 8080 }] } }, 'PORT_DUPLICATE', 'EndpointSpec: duplicate published ports provided'],
  ])('%s', (_name, input, code, message) => {
    const parsed = parseServiceSpec(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect({ code: parsed.error.code, message: parsed.error.message }).toEqual({ code, message });
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', 'web', /^invalid request: /],
    ['an unknown field', { ...minimal, replicas: 3 }, /^invalid request: .*replicas/],
    ['an unknown mode', { ...minimal, mode: { kind: 'job' } }, /^invalid request: mode/],
    ['ingress publishing', { ...minimal, endpointSpec: { ports: [{ targetPort: 80, publishMode: 'ingress' }] } }, /^invalid request: endpointSpec\.ports\.0\.publishMode/],
    ['a string for replicas', { ...minimal, mode: { kind: 'replicated', replicas: '3' } }, /^invalid request: mode\.replicas/],
  ])('a malformed body (%s) is an invalid request', (_name, input, pattern) => {
    const parsed = parseServiceSpec(input);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe('INVALID_REQUEST');
      expect(parsed.error.message).toMatch(pattern);
    }
  });
});

describe('task states', () => {
  it('are Swarm’s, in Swarm’s order', () => {
    expect(TASK_STATES).toEqual(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);
  });

  it('only move forward', () => {
    expect(canAdvanceTaskState('running', 'failed')).toBe(true);
    expect(canAdvanceTaskState('running', 'running')).toBe(true);
    expect(canAdvanceTaskState('failed', 'running')).toBe(false);
    const t: Task = task(service('web', spec()), { nodeId: 'n1', status: status('starting', T0) });
    const running = advanceTaskStatus(t, status('running', T0 + 1000));
    expect(running?.status).toMatchObject({ state: 'running', startedAt: iso(T0 + 1000) });
    const failed = advanceTaskStatus(running!, status('failed', T0 + 5000, { err: 'task: non-zero exit (1)' }));
    // The time it began running is kept: the rolling update's monitor period needs it.
    expect(failed?.status).toMatchObject({ state: 'failed', startedAt: iso(T0 + 1000), err: 'task: non-zero exit (1)' });
    expect(advanceTaskStatus(failed!, status('running', T0 + 6000))).toBeNull();
  });

  it('name tasks as Docker does', () => {
    const svc = service('web', spec());
    expect(taskName(task(svc, { slot: 3 }))).toBe('web.3');
    expect(taskName(task(svc, { slot: 0, nodeId: 'abc' }))).toBe('web.abc');
  });
});

describe('spec changes', () => {
  const v1 = spec({ image: 'app:1' });
  const v2 = { ...v1, taskTemplate: { ...v1.taskTemplate, container: { ...v1.taskTemplate.container, image: 'app:2' } } };

  it('keeps the old spec for a rollback and clears the update status', () => {
    const svc = service('web', v1, { updateStatus: { state: 'completed', message: 'update completed', startedAt: iso(T0) } });
    const updated = updateServiceSpec(svc, v2, 7, iso(T0 + 1000));
    expect(updated).toMatchObject({ spec: v2, specVersion: 7, version: 7, previousSpec: v1, previousSpecVersion: 1, updatedAt: iso(T0 + 1000) });
    expect(updated.updateStatus).toBeUndefined();
    const rolled = rollbackServiceSpec(updated, 8, iso(T0 + 2000));
    expect(rolled).toMatchObject({ spec: v1, specVersion: 1, previousSpec: v2, previousSpecVersion: 7, updateStatus: { state: 'rollback_started', message: 'manually requested rollback', startedAt: iso(T0 + 2000) } });
  });

  it('refuses what Swarm refuses', () => {
    const svc = service('web', v1);
    expect(() => updateServiceSpec(svc, { ...v1, mode: { kind: 'global' } }, 2, iso(T0))).toThrow('service mode change is not allowed');
    expect(() => updateServiceSpec(svc, { ...v1, name: 'other' }, 2, iso(T0))).toThrow('renaming services is not supported');
    expect(() => rollbackServiceSpec(svc, 2, iso(T0))).toThrow('service web does not have a previous spec');
  });
});

