// The window tells the truth about data it can't refresh and engines that aren't there
// (issue 11, items 5 and 6), and its ring fits long hostnames without crossing its centre (item 7).
import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import AsOf from '../../renderer/src/components/AsOf.svelte';
import NodesTable from '../../renderer/src/components/NodesTable.svelte';
import RaftRing from '../../renderer/src/components/RaftRing.svelte';
import { formatAge } from '../../renderer/src/lib/format.js';
import { withEngines } from '../../shared/engine-health.js';
import { swarmHealth } from '../../shared/health.js';
import type { SwarmNode } from '../../shared/types.js';
import { IDS, NODES, member, node, raft, status } from './fixtures.js';

afterEach(cleanup);

function row(id: string): HTMLElement {
  return screen.getAllByTestId('node-row').find((r) => r.dataset['nodeId'] === id)!;
}

function withoutEngine(n: SwarmNode): SwarmNode {
  return { ...n, description: { ...n.description, engineVersion: '' } };
}

describe('stale data', () => {
  it('says how old a list is that could not be refreshed', () => {
    render(NodesTable, { nodes: NODES, selfId: IDS.a, onselect: () => undefined, asOf: Date.now() - 40_000 });
    expect(screen.getByTestId('nodes-as-of').textContent).toContain('as of 40 s ago');
  });

  it('shows no age while the list is fresh', () => {
    render(NodesTable, { nodes: NODES, selfId: IDS.a, onselect: () => undefined });
    expect(screen.queryByTestId('nodes-as-of')).toBeNull();
  });

  it('counts up', () => {
    expect([formatAge(400), formatAge(40_000), formatAge(150_000), formatAge(3 * 3_600_000)]).toEqual(['0 s ago', '40 s ago', '2 min ago', '3 h ago']);
    render(AsOf, { since: Date.now() - 65_000 });
    expect(screen.getByTestId('as-of').textContent).toContain('as of 1 min ago');
  });

  it('never shows "Ready" beside "Unreachable": a manager nobody reaches has an unknown status', () => {
    // As after a quorum loss: the list (read before) still says Ready, the manager status says Unreachable.
    const killed = node(IDS.c, 'charlie', { role: 'manager', reachable: false });
    render(NodesTable, { nodes: [NODES[0]!, NODES[1]!, killed], selfId: IDS.a, onselect: () => undefined });
    const cells = row(IDS.c).querySelectorAll('td');
    expect(cells[2]?.textContent?.trim()).toBe('? Unknown');
    expect(cells[2]?.getAttribute('title')).toContain('Last reported Ready');
    expect(cells[4]?.textContent).toBe('Unreachable');
  });

  it('does not call a stopped manager the leader because an older list did', () => {
    // The list was read while bravo led; the live Raft view no longer reaches it.
    const list = [node(IDS.a, 'alpha', { role: 'manager' }), node(IDS.b, 'bravo', { role: 'manager', leader: true })];
    render(NodesTable, { nodes: list, selfId: IDS.a, onselect: () => undefined, unreachableIds: new Set([IDS.b]) });
    const cells = row(IDS.b).querySelectorAll('td');
    expect(cells[2]?.textContent?.trim()).toBe('? Unknown');
    expect(cells[4]?.textContent).toBe('Unreachable');
  });

  it('calls no manager the leader while the live Raft view has none (quorum lost)', () => {
    render(NodesTable, { nodes: NODES, selfId: IDS.a, onselect: () => undefined, unreachableIds: new Set([IDS.b, IDS.c]), liveLeaderId: null });
    expect(row(IDS.a).querySelectorAll('td')[4]?.textContent).toBe('Reachable');
    expect(screen.getAllByTestId('node-row').map((r) => r.querySelectorAll('td')[4]?.textContent)).not.toContain('Leader');
  });

  it("follows this node's live Raft view when the list itself is older", () => {
    render(NodesTable, { nodes: NODES, selfId: IDS.a, onselect: () => undefined, unreachableIds: new Set([IDS.b]) });
    const cells = row(IDS.b).querySelectorAll('td');
    expect(cells[2]?.textContent?.trim()).toBe('? Unknown');
    expect(cells[4]?.textContent).toBe('Unreachable');
    // Nodes the Raft view reaches keep what they reported.
    expect(row(IDS.w).querySelectorAll('td')[2]?.textContent?.trim()).toBe('● Ready');
  });
});

describe('no Docker Engine', () => {
  it("says so in the node's row", () => {
    render(NodesTable, { nodes: [NODES[0]!, withoutEngine(NODES[3]!)], selfId: IDS.a, onselect: () => undefined });
    expect(row(IDS.w).querySelector('[data-testid="node-engine"]')?.textContent?.trim()).toBe('✕ No engine');
    expect(row(IDS.a).querySelector('[data-testid="node-engine"]')?.textContent?.trim()).toBe('24.0.7');
  });

  it('a swarm with no engine on any node is not "Healthy": it can run no tasks', () => {
    const health = withEngines(swarmHealth(status(), NODES), NODES.map(withoutEngine));
    expect(health.state).toBe('degraded');
    expect(health.sentence).toBe('No Docker Engine — no node can run tasks; 3 managers, can lose 1');
    expect(health.advice).toContain('Start Docker Engine');
  });

  it('names how many ready nodes lack one', () => {
    const list = [NODES[0]!, NODES[1]!, NODES[2]!, withoutEngine(NODES[3]!)];
    const health = withEngines(swarmHealth(status(), list), list);
    expect(health.state).toBe('degraded');
    expect(health.sentence).toBe('Degraded — 1 of 4 ready nodes has no Docker Engine; 3 managers, can lose 1');
  });

  it('leaves a healthy swarm with engines, and worse states, as they are', () => {
    expect(withEngines(swarmHealth(status(), NODES), NODES).sentence).toBe('Healthy — 3 managers, can lose 1');
    const lost = swarmHealth(status({ reachableManagers: 1 }), NODES);
    expect(withEngines(lost, NODES.map(withoutEngine))).toEqual(lost);
  });

  it("a worker reads its own engine", () => {
    const worker = swarmHealth(status({ role: 'worker', managers: 0, reachableManagers: 0 }));
    expect(withEngines(worker, undefined, false).sentence).toBe('In the swarm as a worker — no Docker Engine, so this node runs no tasks');
    expect(withEngines(worker, undefined, true)).toEqual(worker);
  });
});

describe('the ring at any size of hostname', () => {
  const LONG = 'build-server-in-the-basement-rack-2.home.arpa';

  it('cuts a long hostname with an ellipsis and keeps it whole in the tooltip', () => {
    render(RaftRing, { raft: raft({ members: [member(IDS.a, LONG, { role: 'leader' }), member(IDS.b, 'bravo'), member(IDS.c, 'charlie')] }), selfId: IDS.a });
    const long = screen.getAllByTestId('ring-member').find((m) => m.dataset['nodeId'] === IDS.a)!;
    const name = long.querySelector('tspan.name')!.textContent!;
    expect(name.endsWith('… (this node)')).toBe(true);
    expect(name.length).toBeLessThanOrEqual(26);
    expect(long.querySelector('title')?.textContent).toContain(`${LONG} (this node)`);
  });

  it('puts the centre text on a plate drawn over the spokes', () => {
    render(RaftRing, { raft: raft(), selfId: IDS.a });
    const svg = screen.getByTestId('raft-ring').querySelector('svg')!;
    const order = [...svg.children].map((el) => el.getAttribute('data-testid') ?? ['spoke', 'center', 'orbit'].find((name) => el.classList.contains(name)) ?? el.tagName);
    const plate = order.indexOf('ring-plate');
    const lastSpoke = order.lastIndexOf('spoke');
    expect(lastSpoke).toBeGreaterThan(-1);
    expect(plate).toBeGreaterThan(lastSpoke);
    expect(plate).toBeLessThan(order.indexOf('center'));
    // Wide enough for "commit 42 · applied 41" (≈150 px at 13 px) and the term above it.
    expect(Number(screen.getByTestId('ring-plate').getAttribute('r'))).toBeGreaterThanOrEqual(80);
  });
});
