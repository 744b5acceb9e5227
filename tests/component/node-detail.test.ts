import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import NodeDetail from '../../renderer/src/components/NodeDetail.svelte';
import Swarm from '../../renderer/src/pages/Swarm.svelte';
import type { InitRequest, JoinRequest, SwarmNode } from '../../shared/types.js';
import { IDS, NODES, status } from './fixtures.js';

afterEach(cleanup);

function recordingActions(done: string[]) {
  return {
    promote: (n: SwarmNode) => done.push(`promote ${n.id}`),
    demote: (n: SwarmNode) => done.push(`demote ${n.id}`),
    setAvailability: (n: SwarmNode, a: string) => done.push(`${a} ${n.id}`),
    addLabel: (n: SwarmNode, k: string, v: string) => {
      done.push(`label ${k}=${v}`);
      return Promise.resolve(true);
    },
    removeLabel: (n: SwarmNode, k: string) => done.push(`unlabel ${k}`),
    remove: (n: SwarmNode) => done.push(`remove ${n.id}`),
  };
}

describe('NodeDetail', () => {
  it('shows labels, availability, platform, addresses and certificate expiry', () => {
    render(NodeDetail, { node: NODES[3]!, selfId: IDS.a, actions: recordingActions([]), onclose: () => undefined });
    const detail = screen.getByTestId('node-detail');
    expect(screen.getByTestId('detail-availability').textContent).toBe('drain');
    expect(screen.getByTestId('detail-labels').textContent).toContain('zone=attic');
    expect(detail.textContent).toContain('linux/x86_64 · 2 CPUs · 2.0 GiB · Engine 24.0.7');
    expect(detail.textContent).toMatch(/Certificate expires\s*\d{4}-\d\d-\d\d \(in 30 days\)/);
  });

  it('offers promote on a worker, demote on a manager, and runs each action', async () => {
    const done: string[] = [];
    const { unmount } = render(NodeDetail, { node: NODES[3]!, selfId: IDS.a, actions: recordingActions(done), onclose: () => undefined });
    expect(screen.queryByTestId('action-demote')).toBeNull();
    await fireEvent.click(screen.getByTestId('action-promote'));
    await fireEvent.click(screen.getByTestId('availability-active'));
    expect((screen.getByTestId('availability-drain') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByRole('button', { name: 'Remove label zone' }));
    await fireEvent.input(screen.getByTestId('label-key'), { target: { value: 'disk' } });
    await fireEvent.input(screen.getByTestId('label-value'), { target: { value: 'ssd' } });
    await fireEvent.submit(screen.getByTestId('label-key').closest('form')!);
    await fireEvent.click(screen.getByTestId('action-remove'));
    unmount();
    render(NodeDetail, { node: NODES[1]!, selfId: IDS.a, actions: recordingActions(done), onclose: () => undefined });
    await fireEvent.click(screen.getByTestId('action-demote'));
    expect(done).toEqual([`promote ${IDS.w}`, `active ${IDS.w}`, 'unlabel zone', 'label disk=ssd', `remove ${IDS.w}`, `demote ${IDS.b}`]);
  });
});

describe('Swarm page', () => {
  const noToken = () => Promise.reject(new Error('not used'));

  it('starts a swarm with the addresses given, leaving empty ones to the node', async () => {
    const requests: InitRequest[] = [];
    render(Swarm, { status: { state: 'inactive' }, busy: false, oninit: (r: InitRequest) => (requests.push(r), Promise.resolve(true)), onjoin: () => Promise.resolve(true), onleave: () => undefined, fetchToken: noToken });
    await fireEvent.input(screen.getByTestId('init-listen'), { target: { value: '10.0.0.5:2377' } });
    await fireEvent.submit(screen.getByTestId('init-form'));
    expect(requests).toEqual([{ listenAddr: '10.0.0.5:2377' }]);
  });

  it('joins only with a token and a manager address', async () => {
    const requests: JoinRequest[] = [];
    render(Swarm, { status: { state: 'inactive' }, busy: false, oninit: () => Promise.resolve(true), onjoin: (r: JoinRequest) => (requests.push(r), Promise.resolve(true)), onleave: () => undefined, fetchToken: noToken });
    const submit = screen.getByTestId('join-submit') as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('join-token'), { target: { value: ' SKEP-1-abc-def ' } });
    await fireEvent.input(screen.getByTestId('join-remote'), { target: { value: '10.0.0.5:2377' } });
    expect(submit.disabled).toBe(false);
    await fireEvent.submit(screen.getByTestId('join-form'));
    expect(requests).toEqual([{ token: 'SKEP-1-abc-def', remoteAddr: '10.0.0.5:2377' }]);
  });

  it('shows join tokens to a manager, and the leave button', async () => {
    let left = 0;
    render(Swarm, {
      status: status(),
      busy: false,
      oninit: () => Promise.resolve(true),
      onjoin: () => Promise.resolve(true),
      onleave: () => (left += 1),
      fetchToken: (role: 'worker' | 'manager') => Promise.resolve({ role, token: `SKEP-1-${role}`, managerAddr: '10.0.0.5:2377' }),
    });
    await fireEvent.click(screen.getByTestId('show-token-manager'));
    expect((await screen.findByTestId('join-command-manager')).textContent).toBe('skep swarm join --token SKEP-1-manager 10.0.0.5:2377');
    await fireEvent.click(screen.getByTestId('leave-swarm'));
    expect(left).toBe(1);
  });
});
