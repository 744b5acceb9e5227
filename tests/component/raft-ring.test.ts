import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import RaftRing from '../../renderer/src/components/RaftRing.svelte';
import { IDS, member, raft } from './fixtures.js';

afterEach(cleanup);

function members(): HTMLElement[] {
  return screen.getAllByTestId('ring-member');
}

function positions(): Record<string, string> {
  return Object.fromEntries(members().map((m) => [m.dataset['nodeId'] ?? '', `${m.querySelector('.dot')?.getAttribute('cx')},${m.querySelector('.dot')?.getAttribute('cy')}`]));
}

describe('RaftRing', () => {
  it('draws every manager with hostname, role, reachability, and marks exactly one leader', () => {
    render(RaftRing, { raft: raft(), selfId: IDS.b });
    expect(members()).toHaveLength(3);
    expect(members().filter((m) => m.dataset['role'] === 'leader')).toHaveLength(1);
    const [alpha, bravo, charlie] = members();
    expect(alpha?.textContent).toContain('alpha');
    expect(alpha?.textContent).toContain('leader · term 7');
    expect(alpha?.querySelector('.glyph')?.textContent).toBe('★');
    expect(bravo?.textContent).toContain('bravo (this node)');
    expect(bravo?.textContent).toContain('✓ reachable');
    expect(bravo?.textContent).toContain('follower · match 40 · lag 2');
    expect(charlie?.textContent).toContain('✕ unreachable');
    expect(charlie?.textContent).toContain('last contact 9 s ago');
    expect(charlie?.dataset['reachable']).toBe('false');
  });

  it('shows term, commit and applied index, and says so in its accessible name', () => {
    render(RaftRing, { raft: raft(), selfId: IDS.a });
    expect(screen.getByTestId('ring-term').textContent).toBe('Term 7');
    expect(screen.getByTestId('ring-indexes').textContent).toBe('commit 42 · applied 41');
    expect(screen.getByRole('img').getAttribute('aria-label')).toBe('Raft group of 3 managers, term 7, leader alpha, commit 42, applied 41.');
  });

  it('moves the leader mark, not the managers, when the leader changes', async () => {
    const { rerender } = render(RaftRing, { raft: raft(), selfId: IDS.a });
    const before = positions();
    await rerender({
      raft: raft({
        term: 8,
        leaderId: IDS.b,
        members: [member(IDS.a, 'alpha', { reachable: false }), member(IDS.b, 'bravo', { role: 'leader' }), member(IDS.c, 'charlie')],
      }),
      selfId: IDS.a,
    });
    expect(positions()).toEqual(before);
    expect(members().find((m) => m.dataset['role'] === 'leader')?.dataset['nodeId']).toBe(IDS.b);
    expect(screen.getByTestId('ring-term').textContent).toBe('Term 8');
    expect(screen.getByTestId('ring-leader').textContent?.trim()).toBe(`leader ${IDS.b.slice(0, 12)}`);
  });

  it('says when there is no leader', () => {
    render(RaftRing, { raft: raft({ leaderId: null, members: [member(IDS.a, 'alpha', { role: 'candidate' })] }), selfId: IDS.a });
    expect(screen.getByTestId('ring-leader').textContent?.trim()).toBe('no leader');
    expect(members().filter((m) => m.dataset['role'] === 'leader')).toHaveLength(0);
  });
});
