// A service's parts: the remove dialog's words, the task history rows, the progress of a create or
// update, and the log viewer following and not following a stand-in log source.
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import LogViewer from '../../renderer/src/components/LogViewer.svelte';
import ServiceDetail from '../../renderer/src/components/ServiceDetail.svelte';
import ServiceRemoveDialog from '../../renderer/src/components/ServiceRemoveDialog.svelte';
import TaskHistory from '../../renderer/src/components/TaskHistory.svelte';
import type { LogRequest } from '../../renderer/src/lib/service-logs.js';
import { hostnames } from '../../renderer/src/lib/services.js';
import type { ServiceLogLine, Task } from '../../shared/services.js';
import { IDS, NODES } from './fixtures.js';
import { entry, NOW, service, status, task } from './service-fixtures.js';

afterEach(cleanup);

const HOSTS = hostnames(NODES);
const web = service('svcweb0000000000000000001', { name: 'web', mode: { kind: 'replicated', replicas: 3 } });

describe('the remove dialog', () => {
  const running: Task[] = [
    task(web, 'taaaaaaaaaaaaaaaaaaaaaaa1', { slot: 1, nodeId: IDS.a, status: status('running', 30) }),
    task(web, 'tbbbbbbbbbbbbbbbbbbbbbbb2', { slot: 2, nodeId: IDS.b, status: status('running', 30) }),
    task(web, 'tccccccccccccccccccccccc3', { slot: 3, nodeId: IDS.a, status: status('running', 30) }),
    // Not running: not among what is lost.
    task(web, 'tddddddddddddddddddddddd4', { slot: 3, nodeId: IDS.c, desiredState: 'shutdown', status: status('failed', 90, { err: 'task: non-zero exit (1)' }), createdAt: '2026-03-01T11:00:00Z' }),
  ];

  it('names the running containers that removing the service stops, and where they run', async () => {
    const answers: boolean[] = [];
    render(ServiceRemoveDialog, { service: web, tasks: running, hostnames: HOSTS, onanswer: (yes: boolean) => answers.push(yes) });
    expect(screen.getByRole('dialog').getAttribute('aria-modal')).toBe('true');
    expect(screen.getByText('Remove service web?')).toBeTruthy();
    expect(screen.getByTestId('dialog-message').textContent?.trim()).toBe(
      '! Removing web stops and removes its 3 running containers on alpha, bravo. Their logs and anything they wrote outside a volume or bind mount are lost.',
    );
    const facts = screen.getByTestId('dialog-facts').textContent ?? '';
    expect(facts).toContain('web.1.taaaaaaaaaaaaaaaaaaaaaaa1 on alpha');
    expect(facts).toContain('web.2.tbbbbbbbbbbbbbbbbbbbbbbb2 on bravo');
    expect(facts).toContain('web.3.tccccccccccccccccccccccc3 on alpha');
    expect(facts).not.toContain('tddddddddddddddddddddddd4');
    // Enter must not destroy: focus lands on Cancel, not on the destructive button.
    expect(document.activeElement).toBe(screen.getByTestId('dialog-cancel'));
    await fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    expect(answers).toEqual([false, true]);
  });

  it('says so when nothing runs', () => {
    render(ServiceRemoveDialog, { service: web, tasks: [], hostnames: HOSTS, onanswer: () => undefined });
    expect(screen.getByTestId('dialog-message').textContent).toContain('web has no running containers.');
  });
});

describe('the task history', () => {
  it("shows the current task of each slot with its earlier tasks under it, as ` \\_ ` rows", () => {
    const tasks: Task[] = [
      task(web, 'tslot2current00000000000', { slot: 2, nodeId: IDS.b, status: status('running', 120), createdAt: '2026-03-01T11:50:00Z' }),
      task(web, 'tslot1oldest0000000000000', { slot: 1, nodeId: IDS.c, desiredState: 'shutdown', status: status('failed', 600, { err: 'task: non-zero exit (137)' }), createdAt: '2026-03-01T11:40:00Z' }),
      task(web, 'tslot1current00000000000', { slot: 1, nodeId: IDS.a, status: status('running', 60), createdAt: '2026-03-01T11:58:00Z' }),
      task(web, 'tslot1middle00000000000', { slot: 1, nodeId: IDS.w, desiredState: 'shutdown', status: status('shutdown', 300), createdAt: '2026-03-01T11:45:00Z' }),
      task(web, 'tslot3pending0000000000', { slot: 3, nodeId: '', status: status('pending', 5, { err: 'no suitable node (1 node not available for new tasks; 3 nodes host-mode port already in use)' }) }),
    ];
    render(TaskHistory, { tasks, hostnames: HOSTS, now: NOW });
    const rows = screen.getAllByTestId('task-row');
    const cells = (row: HTMLElement, id: string) => row.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
    expect(rows.map((r) => cells(r, 'task-name'))).toEqual(['web.1', ' \\_ web.1', ' \\_ web.1', 'web.2', 'web.3']);
    expect(rows.map((r) => r.dataset['taskId'])).toEqual(['tslot1current00000000000', 'tslot1middle00000000000', 'tslot1oldest0000000000000', 'tslot2current00000000000', 'tslot3pending0000000000']);
    expect(rows.map((r) => cells(r, 'task-node'))).toEqual(['alpha', 'whiskey', 'charlie', 'bravo', '']);
    expect(rows.map((r) => cells(r, 'task-state'))).toEqual(['Running about a minute ago', 'Shutdown 5 minutes ago', 'Failed 10 minutes ago', 'Running 2 minutes ago', 'Pending 5 seconds ago']);
    expect(cells(rows[2]!, 'task-error')).toBe('task: non-zero exit (137)');
    expect(cells(rows[4]!, 'task-error')).toBe('no suitable node (1 node not available for new tasks; 3 nodes host-mode port already in use)');
    expect(rows[0]!.textContent).toContain('Running');
    expect(rows[1]!.dataset['history']).toBe('true');
  });

  it('uses the node as the slot of a global task', () => {
    const agent = service('svcagent00000000000000003', { name: 'agent', mode: { kind: 'global' } });
    render(TaskHistory, { tasks: [task(agent, 'tg1', { slot: 0, nodeId: IDS.b, status: status('running', 10) })], hostnames: HOSTS, now: NOW });
    expect(screen.getByTestId('task-name').textContent).toBe(`agent.${IDS.b}`);
  });
});

describe('progress of a create or update', () => {
  it('counts the slots running the current spec and shows each slot as it goes', () => {
    const updated = service(web.id, { name: 'web', image: 'skep-test/busybox:2', mode: { kind: 'replicated', replicas: 3 } }, { updateStatus: { state: 'updating', message: 'update in progress', startedAt: '2026-03-01T11:59:00Z' } });
    const tasks: Task[] = [
      task(updated, 't1new', { slot: 1, nodeId: IDS.a, status: status('running', 5) }),
      task(updated, 't2new', { slot: 2, nodeId: IDS.b, status: status('preparing', 2) }),
      // Slot 3 still runs the old image.
      task(web, 't3old', { slot: 3, nodeId: IDS.c, status: status('running', 500) }),
    ];
    render(ServiceDetail, { entry: entry(updated, 3, 3), tasks, hostnames: HOSTS, readLogs: () => Promise.resolve([]), onscale: () => Promise.resolve(), onupdateimage: () => Promise.resolve(), onremove: () => undefined, onclose: () => undefined });
    expect(screen.getByTestId('detail-state').textContent).toBe('Updating: update in progress');
    expect(screen.getByTestId('progress-overall').textContent).toBe('overall progress: 1 out of 3 tasks');
    const slots = screen.getAllByTestId('progress-slot');
    expect(slots.map((s) => s.dataset['state'])).toEqual(['running', 'preparing', 'running']);
    expect(slots[2]!.textContent).toContain('(previous spec)');
    expect(slots.map((s) => (s.querySelector('progress') as HTMLProgressElement).value)).toEqual([7, 4, 7]);
  });

  it('hides the progress once every slot runs the current spec, and shows a refused scale next to its field', async () => {
    const tasks = [1, 2, 3].map((slot) => task(web, `t${slot}`, { slot, nodeId: IDS.a, status: status('running', 5) }));
    render(ServiceDetail, {
      entry: entry(web, 3, 3), tasks, hostnames: HOSTS, readLogs: () => Promise.resolve([]),
      onscale: (n: number) => Promise.reject(new Error(`refused ${n}`)), onupdateimage: () => Promise.resolve(), onremove: () => undefined, onclose: () => undefined,
    });
    expect(screen.queryByTestId('service-progress')).toBeNull();
    await fireEvent.input(screen.getByTestId('scale-replicas'), { target: { value: '5' } });
    await fireEvent.submit(screen.getByTestId('scale-replicas').closest('form')!);
    await waitFor(() => expect(screen.getByTestId('scale-error').textContent).toContain('refused 5'));
    expect(screen.getByTestId('scale-replicas').getAttribute('aria-describedby')).toBe(screen.getByTestId('scale-error').id);
  });
});

describe('the log viewer', () => {
  /** A stand-in for the node's `serviceLogs`: lines appear as the test writes them; each call is recorded. */
  function logSource() {
    const written: ServiceLogLine[] = [];
    const calls: LogRequest[] = [];
    let second = Math.floor(NOW / 1000);
    return {
      calls,
      write(text: string, slot = 1, hostname = 'alpha') {
        second += 1;
        written.push({ taskId: `task${slot}aaaaaaaaaaaaaaaaaaaa`, serviceName: 'web', slot, nodeId: IDS.a, hostname, stream: 'stdout', text, timestamp: `${new Date(second * 1000).toISOString().slice(0, 19)}.123456789Z` });
      },
      read: (request: LogRequest) => {
        calls.push(request);
        const since = request.sinceSeconds;
        const lines = since === undefined ? written.slice(-(request.tail ?? written.length)) : written.filter((l) => Date.parse(l.timestamp!) / 1000 >= since);
        return Promise.resolve(lines);
      },
    };
  }

  const shown = (): string[] => screen.queryAllByTestId('log-line').map((l) => l.textContent ?? '');

  it('prefixes every line with <service>.<slot>.<task>@<node> and follows new lines', async () => {
    const source = logSource();
    source.write('listening on :80');
    source.write('GET /', 2, 'bravo');
    render(LogViewer, { read: source.read, pollMs: 10 });
    await waitFor(() => expect(shown()).toEqual(['web.1.task1aaaaaaa@alpha    | listening on :80', 'web.2.task2aaaaaaa@bravo    | GET /']));
    expect(source.calls[0]).toEqual({ tail: 200 });
    source.write('GET /health');
    await waitFor(() => expect(shown()).toHaveLength(3));
    expect(shown()[2]).toBe('web.1.task1aaaaaaa@alpha    | GET /health');
    // Later reads ask from the last line's second on and show nothing twice.
    await waitFor(() => expect(source.calls.at(-1)?.sinceSeconds).toBe(Math.floor(NOW / 1000) + 3));
    expect(new Set(shown()).size).toBe(shown().length);
  });

  it('stops asking when follow is off, and catches up when it is on again', async () => {
    const source = logSource();
    source.write('one');
    render(LogViewer, { read: source.read, pollMs: 10 });
    await waitFor(() => expect(shown()).toHaveLength(1));
    await waitFor(() => expect(source.calls.length).toBeGreaterThan(2));
    await fireEvent.click(screen.getByTestId('log-follow'));
    expect((screen.getByTestId('log-follow') as HTMLInputElement).checked).toBe(false);
    const callsWhenOff = source.calls.length;
    source.write('two');
    // Many poll periods pass without a read.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(source.calls.length).toBe(callsWhenOff);
    expect(shown()).toHaveLength(1);
    expect(screen.getByTestId('log-count').textContent).toBe('1 lines');
    await fireEvent.click(screen.getByTestId('log-refresh'));
    await waitFor(() => expect(shown()).toHaveLength(2));
    source.write('three');
    await fireEvent.click(screen.getByTestId('log-follow'));
    await waitFor(() => expect(shown().map((l) => l.split('| ')[1])).toEqual(['one', 'two', 'three']));
    expect(screen.getByTestId('log-count').textContent).toBe('3 lines · following');
  });

  it('says when the logs cannot be read', async () => {
    render(LogViewer, { read: () => Promise.reject(new Error('service web not found')), pollMs: 10, follow: false });
    await waitFor(() => expect(screen.getByTestId('log-error').textContent).toBe('The logs could not be read: service web not found'));
  });
});
