// The tasks each node runs: a count per row of the node table and per manager on the Raft ring, and
// the list in the node's detail. Tasks that were shut down or are not placed yet are not counted.
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import RaftRing from '../../renderer/src/components/RaftRing.svelte';
import Nodes from '../../renderer/src/pages/Nodes.svelte';
import Overview from '../../renderer/src/pages/Overview.svelte';
import { swarmHealth } from '../../shared/health.js';
import type { Task } from '../../shared/services.js';
import { IDS, NODES, raft, status as swarmStatus } from './fixtures.js';
import { service, status, task } from './service-fixtures.js';

afterEach(cleanup);

const web = service('svcweb0000000000000000001', { name: 'web', mode: { kind: 'replicated', replicas: 3 } });
const agent = service('svcagent00000000000000003', { name: 'agent', image: 'agent:1', mode: { kind: 'global' } });
const TASKS: Task[] = [
  task(web, 'tweb1aaaaaaaaaaaaaaaaaaaa', { slot: 1, nodeId: IDS.a, status: status('running', 30) }),
  task(web, 'tweb2aaaaaaaaaaaaaaaaaaaa', { slot: 2, nodeId: IDS.b, status: status('starting', 3) }),
  task(web, 'tweb3aaaaaaaaaaaaaaaaaaaa', { slot: 3, nodeId: IDS.a, status: status('running', 30) }),
  task(web, 'tweb3oldaaaaaaaaaaaaaaaaa', { slot: 3, nodeId: IDS.b, desiredState: 'shutdown', status: status('shutdown', 90) }),
  task(web, 'tweb4aaaaaaaaaaaaaaaaaaaa', { slot: 4, nodeId: '', status: status('pending', 3, { err: 'no suitable node' }) }),
  task(agent, 'tagentaaaaaaaaaaaaaaaaaaa', { slot: 0, nodeId: IDS.a, status: status('failed', 3, { err: 'task: non-zero exit (2)' }) }),
  task(agent, 'tagentbbbbbbbbbbbbbbbbbbb', { slot: 0, nodeId: IDS.w, status: status('running', 30) }),
];

const noActions = {
  promote: () => undefined,
  demote: () => undefined,
  setAvailability: () => undefined,
  addLabel: () => Promise.resolve(true),
  removeLabel: () => undefined,
  remove: () => undefined,
};

describe('tasks per node', () => {
  it('counts the tasks each node runs in the node table, and lists them in its detail', async () => {
    render(Nodes, { status: swarmStatus(), list: NODES, error: undefined, busy: false, actions: noActions, onretry: () => undefined, ongo: () => undefined, tasks: TASKS });
    const counts = Object.fromEntries(screen.getAllByTestId('node-row').map((row) => [row.dataset['nodeId'], row.querySelector('[data-testid="node-tasks-count"]')?.textContent]));
    expect(counts).toEqual({ [IDS.a]: '2', [IDS.b]: '1', [IDS.c]: '0', [IDS.w]: '1' });

    await fireEvent.click(screen.getByRole('button', { name: new RegExp(`^${IDS.b.slice(0, 12)}( \\*)? details of bravo$`) }));
    const bravo = screen.getAllByTestId('node-task');
    expect(bravo.map((li) => li.textContent?.replace(/\s+/g, ' ').trim())).toEqual(['web.2.tweb2aaaaaaa skep-test/busybox:1 Starting']);

    await fireEvent.click(screen.getByRole('button', { name: 'Close the details' }));
    await fireEvent.click(screen.getByRole('button', { name: new RegExp(`^${IDS.a.slice(0, 12)}( \\*)? details of alpha$`) }));
    expect(screen.getAllByTestId('node-task').map((li) => li.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'web.1.tweb1aaaaaaa skep-test/busybox:1 Running',
      'web.3.tweb3aaaaaaa skep-test/busybox:1 Running',
    ]);
    expect(screen.getByTestId('node-tasks').textContent).toContain('Tasks (2)');
  });

  it('says when a node runs no tasks', async () => {
    render(Nodes, { status: swarmStatus(), list: NODES, error: undefined, busy: false, actions: noActions, onretry: () => undefined, ongo: () => undefined, tasks: TASKS });
    await fireEvent.click(screen.getByRole('button', { name: new RegExp(`^${IDS.c.slice(0, 12)}( \\*)? details of charlie$`) }));
    expect(screen.getByTestId('node-tasks').textContent).toContain('This node runs no tasks.');
  });

  it('shows no tasks column or list where tasks are not known', () => {
    render(Nodes, { status: swarmStatus(), list: NODES, error: undefined, busy: false, actions: noActions, onretry: () => undefined, ongo: () => undefined });
    expect(screen.queryAllByTestId('node-tasks-count')).toHaveLength(0);
  });

  it("puts each manager's task count on the Raft ring", () => {
    render(RaftRing, { raft: raft(), selfId: IDS.a, taskCounts: new Map([[IDS.a, 2], [IDS.b, 1]]) });
    const byId = Object.fromEntries(screen.getAllByTestId('ring-member').map((m) => [m.dataset['nodeId'], m.querySelector('.label')?.textContent ?? '']));
    expect(byId[IDS.a]).toContain('runs 2 tasks');
    expect(byId[IDS.b]).toContain('runs 1 task');
    expect(byId[IDS.c]).toContain('runs 0 tasks');
  });

  it('feeds the ring from the overview with the same count as the node table', () => {
    render(Overview, { status: swarmStatus(), health: swarmHealth(swarmStatus(), NODES), info: undefined, onrecover: () => undefined, ongo: () => undefined, tasks: TASKS });
    const alpha = screen.getAllByTestId('ring-member').find((m) => m.dataset['nodeId'] === IDS.a);
    expect(alpha?.textContent).toContain('runs 2 tasks');
  });
});
