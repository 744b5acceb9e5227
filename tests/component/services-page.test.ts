// The Services page: empty, a list with a state per service, the create form with the node's refusals
// next to the fields they concern. The node is a stand-in here (a named double of the API's service
// methods) that checks specs with the real schema the control API uses, so the texts are the catalog's.
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import Services, { type ServicesClient } from '../../renderer/src/pages/Services.svelte';
import { skepError, type SkepError } from '../../shared/errors.js';
import { parseServiceSpec, type ServiceSpecRequest } from '../../shared/service-schema.js';
import type { ServiceListEntry, Task } from '../../shared/services.js';
import { IDS, NODES, status as swarmStatus } from './fixtures.js';
import { entry, service, status, task } from './service-fixtures.js';

afterEach(cleanup);

/** The API's service methods over a list held in memory, checking specs as the control API does. */
function nodeDouble(existing: string[] = []) {
  const created: ServiceSpecRequest[] = [];
  const client: ServicesClient = {
    serviceCreate: (spec) => {
      const parsed = parseServiceSpec(spec);
      if (!parsed.ok) return Promise.reject(parsed.error);
      if (existing.includes(parsed.spec.name)) return Promise.reject(skepError('SERVICE_NAME_CONFLICT'));
      created.push(spec);
      return Promise.resolve({ id: `svc${String(created.length).padStart(22, '0')}` });
    },
    serviceInspect: () => Promise.reject(new Error('not used')),
    serviceUpdate: () => Promise.reject(new Error('not used')),
    serviceScale: () => Promise.reject(new Error('not used')),
    serviceRemove: () => Promise.reject(new Error('not used')),
    serviceLogs: () => Promise.resolve([]),
  };
  return { client, created };
}

function renderPage(entries: readonly ServiceListEntry[] | undefined, tasks: readonly Task[] = [], client = nodeDouble().client) {
  return render(Services, { status: swarmStatus(), entries, tasks, nodes: NODES, error: undefined, client, onchanged: () => undefined, ongo: () => undefined });
}

describe('Services page', () => {
  it('says there are no services yet and offers to create one', () => {
    renderPage([]);
    expect(screen.getByTestId('services-empty').textContent).toContain('No services yet');
    expect(screen.queryByTestId('services-table')).toBeNull();
    expect(screen.getByTestId('service-create-open')).toBeTruthy();
  });

  it("tells a worker the catalog's not-a-manager sentence", () => {
    render(Services, { status: swarmStatus({ role: 'worker' }), entries: undefined, tasks: [], nodes: undefined, error: undefined, client: nodeDouble().client, onchanged: () => undefined, ongo: () => undefined });
    expect(screen.getByTestId('not-a-manager').textContent).toBe(skepError('NOT_A_MANAGER').message);
  });

  it('lists each service with mode, replicas, image, ports and a state told from its tasks', () => {
    const web = service('svcweb0000000000000000001', { name: 'web', mode: { kind: 'replicated', replicas: 3 }, endpointSpec: { ports: [{ targetPort: 80, publishedPort: 8080 }] } });
    const db = service('svcdb00000000000000000002', { name: 'db', taskTemplate: { container: { image: 'postgres:16' }, placement: { constraints: ['node.labels.disk==ssd'] } } });
    const agent = service('svcagent00000000000000003', { name: 'agent', mode: { kind: 'global' } });
    const api = service('svcapi0000000000000000004', { name: 'api', image: 'api:2' }, { updateStatus: { state: 'paused', message: 'update paused due to failure or early termination of task tapi1', startedAt: '2026-03-01T11:00:00Z' } });
    const tasks: Task[] = [
      task(web, 'tweb1', { slot: 1, nodeId: IDS.a, status: status('running', 30) }),
      task(web, 'tweb2', { slot: 2, nodeId: IDS.b, status: status('preparing', 5) }),
      task(web, 'tweb3', { slot: 3, nodeId: '', status: status('pending', 5) }),
      task(db, 'tdb1', { slot: 1, status: status('pending', 5, { err: 'no suitable node (scheduling constraints not satisfied on 4 nodes)' }) }),
      task(agent, 'tagent1', { slot: 0, nodeId: IDS.a, status: status('running', 60) }),
      task(agent, 'tagent2', { slot: 0, nodeId: IDS.b, status: status('running', 60) }),
    ];
    renderPage([entry(web, 1, 3), entry(db, 0, 1), entry(agent, 2, 2), entry(api, 0, 1)], tasks);

    const rows = screen.getAllByTestId('service-row');
    expect(rows.map((r) => r.dataset['service'])).toEqual(['agent', 'api', 'db', 'web']);
    const byName = (name: string) => rows.find((r) => r.dataset['service'] === name)!;
    const web_ = byName('web');
    expect(web_.dataset['state']).toBe('converging');
    expect(within(web_).getByTestId('service-replicas').textContent).toBe('1/3');
    expect(within(web_).getByTestId('service-state').textContent).toContain('Converging: 1 of 3 tasks running');
    expect(web_.textContent).toContain('replicated');
    expect(web_.textContent).toContain('skep-test/busybox:1');
    expect(web_.textContent).toContain('*:8080->80/tcp');
    expect(byName('db').dataset['state']).toBe('no-suitable-node');
    expect(within(byName('db')).getByTestId('service-state').textContent).toContain('no suitable node (scheduling constraints not satisfied on 4 nodes)');
    expect(byName('agent').dataset['state']).toBe('converged');
    expect(byName('agent').textContent).toContain('global');
    expect(within(byName('agent')).getByTestId('service-replicas').textContent).toBe('2/2');
    expect(byName('api').dataset['state']).toBe('paused');
    expect(within(byName('api')).getByTestId('service-state').textContent).toContain('Update paused: update paused due to failure or early termination of task tapi1');
  });

  it('says a service is updating while its tasks run an older spec, before the orchestrator says so', () => {
    const before = service('svcweb0000000000000000001', { name: 'web', mode: { kind: 'replicated', replicas: 2 } });
    const after = service(before.id, { name: 'web', image: 'skep-test/busybox:2', mode: { kind: 'replicated', replicas: 2 } });
    const tasks = [1, 2].map((slot) => task(before, `t${slot}`, { slot, nodeId: IDS.a, status: status('running', 30) }));
    renderPage([entry(after, 2, 2)], tasks);
    expect(screen.getByTestId('service-row').dataset['state']).toBe('updating');
    expect(screen.getByTestId('service-state').textContent).toContain('Updating: 0 of 2 tasks updated');
  });

  it('says a service whose last task failed is failing, with the task error', () => {
    const web = service('svcweb0000000000000000001', { name: 'web' });
    const tasks = [
      task(web, 'tnew', { slot: 1, nodeId: IDS.a, status: status('ready', 2), desiredState: 'ready', createdAt: '2026-03-01T11:59:58Z' }),
      task(web, 'told', { slot: 1, nodeId: IDS.a, desiredState: 'shutdown', status: status('failed', 3, { err: 'task: non-zero exit (1)' }), createdAt: '2026-03-01T11:59:00Z' }),
    ];
    renderPage([entry(web, 0, 1)], tasks);
    const row = screen.getByTestId('service-row');
    expect(row.dataset['state']).toBe('failing');
    expect(row.textContent).toContain('task: non-zero exit (1)');
  });
});

describe('the create form', () => {
  async function openForm(client = nodeDouble().client) {
    renderPage([], [], client);
    await fireEvent.click(screen.getByTestId('service-create-open'));
    return screen.getByTestId('service-form');
  }

  async function type(testId: string, value: string) {
    await fireEvent.input(screen.getByTestId(testId), { target: { value } });
  }

  async function submit(): Promise<void> {
    await fireEvent.submit(screen.getByTestId('form-submit').closest('form')!);
    // The refusal comes back from the (stand-in) node asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }

  /** The error shown for `field`, checked to sit in the same field as its input and to describe it. */
  function errorNextTo(field: string, inputTestId: string): string {
    const error = screen.getByTestId(`error-${field}`);
    const input = screen.getByTestId(inputTestId);
    expect(input.closest('.field')).toBe(error.closest('.field'));
    if (input.getAttribute('aria-describedby') !== null) {
      expect(input.getAttribute('aria-describedby')).toBe(error.id);
      expect(input.getAttribute('aria-invalid')).toBe('true');
    }
    expect(screen.getAllByRole('alert')).toHaveLength(1);
    return error.textContent?.replace(/^\s*✕\s*/, '').trim() ?? '';
  }

  function message(error: SkepError): string {
    return error.message;
  }

  it("puts each refusal next to its field, in the catalog's words", async () => {
    await openForm();
    await submit();
    expect(errorNextTo('name', 'form-name')).toBe(message(skepError('SERVICE_NAME_REQUIRED')));

    await type('form-name', 'web server');
    await submit();
    expect(errorNextTo('name', 'form-name')).toBe(message(skepError('SERVICE_NAME_INVALID')));

    await type('form-name', 'web');
    await submit();
    expect(errorNextTo('image', 'form-image')).toBe(message(skepError('SERVICE_IMAGE_REQUIRED')));

    await type('form-image', 'Busybox:Latest');
    await submit();
    expect(errorNextTo('image', 'form-image')).toBe(message(skepError('SERVICE_IMAGE_INVALID', 'Busybox:Latest')));

    await type('form-image', 'busybox:1');
    await type('form-constraints', 'node.role\n');
    await submit();
    expect(errorNextTo('constraints', 'form-constraints')).toBe(message(skepError('CONSTRAINT_NO_OPERATOR')));

    await type('form-constraints', 'node.role==worker');
    await type('form-replicas', '-2');
    await submit();
    expect(errorNextTo('replicas', 'form-replicas')).toBe(message(skepError('SERVICE_REPLICAS_NEGATIVE')));

    await type('form-replicas', '2');
    await fireEvent.click(screen.getByTestId('form-add-port'));
    await type('form-port-target', 'http');
    await submit();
    expect(errorNextTo('ports', 'form-port-target')).toBe(message(skepError('PORT_INVALID', 'target', 'http', 'invalid syntax')));

    await type('form-port-target', '80');
    await type('form-port-published', '70000');
    await submit();
    expect(errorNextTo('ports', 'form-port-published')).toBe(message(skepError('PORT_INVALID', 'published', '70000', 'value out of range')));

    await type('form-port-published', '8080');
    await type('form-limit-memory', '1');
    await submit();
    expect(errorNextTo('limitMemory', 'form-limit-memory')).toBe(message(skepError('SERVICE_MEMORY_TOO_SMALL', 1024 * 1024)));

    await type('form-limit-memory', '');
    await type('form-limit-cpu', '0.0001');
    await submit();
    expect(errorNextTo('limitCpu', 'form-limit-cpu')).toBe(message(skepError('SERVICE_CPU_TOO_SMALL', '0.0001')));
  });

  it('says a taken name next to the name field', async () => {
    await openForm(nodeDouble(['web']).client);
    await type('form-name', 'web');
    await type('form-image', 'busybox:1');
    await submit();
    expect(errorNextTo('name', 'form-name')).toBe(message(skepError('SERVICE_NAME_CONFLICT')));
  });

  it('sends the spec the form describes and shows the new service', async () => {
    const node = nodeDouble();
    await openForm(node.client);
    await type('form-name', 'web');
    await type('form-image', 'skep-test/busybox:1');
    await type('form-command', `sh -c "trap 'exit 0' TERM; echo \\"hi\\" \\$HOSTNAME" ''`);
    await type('form-replicas', '3');
    await type('form-env', 'MODE=prod\n\nLEVEL=2\n');
    await type('form-constraints', 'node.role==worker');
    await fireEvent.click(screen.getByTestId('form-add-port'));
    await type('form-port-published', '8080');
    await type('form-port-target', '80');
    await fireEvent.change(screen.getByTestId('form-restart'), { target: { value: 'on-failure' } });
    await type('form-limit-cpu', '0.5');
    await type('form-limit-memory', '64');
    await submit();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(node.created).toHaveLength(1);
    const parsed = parseServiceSpec(node.created[0]);
    if (!parsed.ok) throw parsed.error;
    expect(parsed.spec).toMatchObject({
      name: 'web',
      mode: { kind: 'replicated', replicas: 3 },
      taskTemplate: {
        container: { image: 'skep-test/busybox:1', args: ['sh', '-c', `trap 'exit 0' TERM; echo "hi" $HOSTNAME`, ''], env: ['MODE=prod', 'LEVEL=2'] },
        resources: { limits: { nanoCpus: 5e8, memoryBytes: 64 * 1024 * 1024 } },
        restartPolicy: { condition: 'on-failure' },
        placement: { constraints: ['node.role==worker'] },
      },
      endpointSpec: { ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 8080, publishMode: 'host' }] },
    });
    expect(screen.queryByTestId('service-form')).toBeNull();
    expect(screen.getByTestId('services-notice').textContent).toContain('Service web created');
  });

  it('creates a global service without replicas', async () => {
    const node = nodeDouble();
    await openForm(node.client);
    await type('form-name', 'agent');
    await type('form-image', 'busybox:1');
    await fireEvent.click(screen.getByTestId('form-mode-global'));
    expect(screen.queryByTestId('form-replicas')).toBeNull();
    await submit();
    expect(node.created[0]).toMatchObject({ name: 'agent', mode: { kind: 'global' } });
  });
});

describe("a service's actions on the page", () => {
  const web = service('svcweb0000000000000000001', { name: 'web', mode: { kind: 'replicated', replicas: 2 }, taskTemplate: { container: { image: 'skep-test/busybox:1', env: ['MODE=prod'] }, placement: { constraints: ['node.role==worker'] } } });
  const tasks = [1, 2].map((slot) => task(web, `tweb${slot}aaaaaaaaaaaaaaaaaaaa`, { slot, nodeId: slot === 1 ? IDS.a : IDS.b, status: status('running', 30) }));

  /** Records what the page asks; refuses what the control API refuses (the real schema). */
  function recordingNode() {
    const calls: string[] = [];
    const updates: ServiceSpecRequest[] = [];
    const client: ServicesClient = {
      ...nodeDouble().client,
      serviceInspect: () => Promise.resolve(web),
      serviceUpdate: (ref, spec) => {
        const parsed = parseServiceSpec(spec);
        if (!parsed.ok) return Promise.reject(parsed.error);
        calls.push(`update ${ref}`);
        updates.push(spec);
        return Promise.resolve();
      },
      serviceScale: (ref, replicas) => {
        if (replicas < 0) return Promise.reject(skepError('SERVICE_REPLICAS_NEGATIVE'));
        calls.push(`scale ${ref} ${replicas}`);
        return Promise.resolve();
      },
      serviceRemove: (ref) => {
        calls.push(`remove ${ref}`);
        return Promise.resolve(ref);
      },
    };
    return { client, calls, updates };
  }

  async function openDetail(client: ServicesClient) {
    renderPage([entry(web, 2, 2)], tasks, client);
    await fireEvent.click(screen.getByRole('button', { name: 'Details of service web' }));
    return screen.getByTestId('service-detail');
  }

  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('updates the image and keeps the rest of the spec; a bad image is refused next to the image field', async () => {
    const node = recordingNode();
    await openDetail(node.client);
    await fireEvent.input(screen.getByTestId('update-image'), { target: { value: 'Not An Image' } });
    await fireEvent.submit(screen.getByTestId('update-image').closest('form')!);
    await settle();
    expect(screen.getByTestId('update-image-error').textContent).toBe(`✕ ${skepError('SERVICE_IMAGE_INVALID', 'Not An Image').message}`);
    expect(node.calls).toEqual([]);

    await fireEvent.input(screen.getByTestId('update-image'), { target: { value: 'skep-test/busybox:2' } });
    await fireEvent.submit(screen.getByTestId('update-image').closest('form')!);
    await settle();
    expect(screen.queryByTestId('update-image-error')).toBeNull();
    expect(node.calls).toEqual([`update ${web.id}`]);
    expect(node.updates[0]).toEqual({ ...web.spec, taskTemplate: { ...web.spec.taskTemplate, container: { ...web.spec.taskTemplate.container, image: 'skep-test/busybox:2' } } });
    expect(screen.getByTestId('services-notice').textContent).toContain('web is updating to skep-test/busybox:2.');
  });

  it('scales, and shows a refused scale next to the replicas field', async () => {
    const node = recordingNode();
    await openDetail(node.client);
    await fireEvent.input(screen.getByTestId('scale-replicas'), { target: { value: '-1' } });
    await fireEvent.submit(screen.getByTestId('scale-replicas').closest('form')!);
    await settle();
    expect(screen.getByTestId('scale-error').textContent).toBe(`✕ ${skepError('SERVICE_REPLICAS_NEGATIVE').message}`);
    await fireEvent.input(screen.getByTestId('scale-replicas'), { target: { value: '5' } });
    await fireEvent.submit(screen.getByTestId('scale-replicas').closest('form')!);
    await settle();
    expect(node.calls).toEqual([`scale ${web.id} 5`]);
    expect(screen.getByTestId('services-notice').textContent).toContain('web scaled to 5.');
  });

  it('removes only after the dialog is confirmed', async () => {
    const node = recordingNode();
    await openDetail(node.client);
    await fireEvent.click(screen.getByTestId('service-remove'));
    expect(screen.getByTestId('dialog-message').textContent).toContain('Removing web stops and removes its 2 running containers on alpha, bravo.');
    await fireEvent.click(screen.getByTestId('dialog-cancel'));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(node.calls).toEqual([]);
    await fireEvent.click(screen.getByTestId('service-remove'));
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    await settle();
    expect(node.calls).toEqual([`remove ${web.id}`]);
    expect(screen.queryByTestId('service-detail')).toBeNull();
    expect(screen.getByTestId('services-notice').textContent).toContain('Service web removed.');
  });
});
