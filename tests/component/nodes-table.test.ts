import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import NodesTable from '../../renderer/src/components/NodesTable.svelte';
import type { SwarmNode } from '../../shared/types.js';
import { IDS, NODES } from './fixtures.js';

afterEach(cleanup);

function hostnames(): string[] {
  return screen.getAllByTestId('node-row').map((row) => row.children[1]?.textContent ?? '');
}

describe('NodesTable', () => {
  it("shows node ls's columns with Docker's words", () => {
    render(NodesTable, { nodes: NODES, selfId: IDS.a, onselect: () => undefined });
    const headers = screen.getAllByRole('columnheader').map((th) => th.textContent?.trim());
    // The sorted column carries its arrow.
    expect(headers).toEqual(['ID', 'HOSTNAME▲', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ADDRESS', 'PLATFORM', 'ENGINE VERSION']);
    const alpha = screen.getAllByTestId('node-row')[0];
    expect(alpha?.textContent).toContain(`${IDS.a.slice(0, 12)} *`);
    expect(alpha?.textContent).toContain('Leader');
    expect(alpha?.textContent).toContain('Ready');
    expect(screen.getAllByTestId('node-row')[3]?.textContent).toContain('Drain');
  });

  it('sorts by a column, both ways, and says so to assistive tech', async () => {
    render(NodesTable, { nodes: NODES, selfId: IDS.a, onselect: () => undefined });
    expect(hostnames()).toEqual(['alpha', 'bravo', 'charlie', 'whiskey']);
    await fireEvent.click(screen.getByTestId('sort-hostname'));
    expect(hostnames()).toEqual(['whiskey', 'charlie', 'bravo', 'alpha']);
    expect(screen.getByTestId('sort-hostname').closest('th')?.getAttribute('aria-sort')).toBe('descending');
    await fireEvent.click(screen.getByTestId('sort-availability'));
    expect(hostnames()[3]).toBe('whiskey');
  });

  it('filters on any column and says what to do when nothing matches', async () => {
    render(NodesTable, { nodes: NODES, selfId: IDS.a, onselect: () => undefined });
    await fireEvent.input(screen.getByTestId('nodes-filter'), { target: { value: 'drain' } });
    expect(hostnames()).toEqual(['whiskey']);
    expect(screen.getByText('1 of 4 nodes')).toBeTruthy();
    await fireEvent.input(screen.getByTestId('nodes-filter'), { target: { value: 'zzz' } });
    expect(screen.queryAllByTestId('node-row')).toHaveLength(0);
    expect(screen.getByText(/No node matches/).textContent).toContain('Clear the filter');
  });

  it('selects a node from its ID button', async () => {
    const picked: SwarmNode[] = [];
    render(NodesTable, { nodes: NODES, selfId: IDS.a, onselect: (node: SwarmNode) => picked.push(node) });
    await fireEvent.click(screen.getByRole('button', { name: /^bbbbbbbbbbbb details of bravo$/ }));
    expect(picked.map((n) => n.id)).toEqual([IDS.b]);
  });
});
