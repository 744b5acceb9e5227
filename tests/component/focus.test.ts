// Focus goes where a keyboard user expects (issue 11, item 9): back to the opener when a dialog
// closes, into a node's details when they open; and rotating a join token asks first.
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import JoinToken from '../../renderer/src/components/JoinToken.svelte';
import NodeDetail from '../../renderer/src/components/NodeDetail.svelte';
import NodesTable from '../../renderer/src/components/NodesTable.svelte';
import type { JoinTokenResult, NodeRole, SwarmNode } from '../../shared/types.js';
import DialogOpener from './harness/DialogOpener.svelte';
import { IDS, NODES } from './fixtures.js';

afterEach(cleanup);

/** Dialog hands focus back after the update that removes it (a timer), so wait one turn. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

const noActions = {
  promote: () => undefined,
  demote: () => undefined,
  setAvailability: () => undefined,
  addLabel: () => Promise.resolve(true),
  removeLabel: () => undefined,
  remove: () => undefined,
};

describe('focus', () => {
  it('returns to the opener when a dialog closes with Escape, though opening it had dropped the focus', async () => {
    render(DialogOpener);
    const opener = screen.getByTestId('opener');
    opener.focus();
    await fireEvent.click(opener);
    expect(screen.getByTestId('harness-dialog').contains(document.activeElement)).toBe(true);
    await fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Escape' });
    await settle();
    expect(screen.queryByTestId('harness-dialog')).toBeNull();
    expect(document.activeElement).toBe(opener);
  });

  it('returns to the opener when a dialog closes with its Cancel button', async () => {
    render(DialogOpener);
    const opener = screen.getByTestId('opener');
    opener.focus();
    await fireEvent.click(opener);
    await fireEvent.click(screen.getByTestId('harness-cancel'));
    await settle();
    expect(document.activeElement).toBe(opener);
  });

  it("moves focus to a node's details when they open, and again when another node is chosen", async () => {
    const { rerender } = render(NodeDetail, { node: NODES[1]!, selfId: IDS.a, actions: noActions, onclose: () => undefined });
    expect(document.activeElement).toBe(screen.getByTestId('detail-heading'));
    expect(document.activeElement?.textContent).toBe('bravo');
    // A refreshed list (same node, new object) leaves focus where the person put it.
    const key = screen.getByTestId('label-key');
    key.focus();
    await rerender({ node: { ...NODES[1]! } as SwarmNode });
    expect(document.activeElement).toBe(key);
    await rerender({ node: NODES[2]! });
    expect(document.activeElement?.textContent).toBe('charlie');
  });

  it("names each ID link by its visible text first (WCAG 2.5.3), then what it opens", () => {
    render(NodesTable, { nodes: NODES, selfId: IDS.a, onselect: () => undefined });
    const link = screen.getAllByTestId('node-row')[0]!.querySelector('button')!;
    const visible = [...link.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('');
    expect(visible).toBe(`${IDS.a.slice(0, 12)} *`);
    expect(link.getAttribute('aria-label')).toBeNull();
    expect(link.textContent).toBe(`${IDS.a.slice(0, 12)} * details of alpha`);
  });
});

describe('rotating a join token', () => {
  function tokenSource(calls: string[]) {
    let n = 0;
    return (role: NodeRole, rotate: boolean): Promise<JoinTokenResult> => {
      calls.push(`${role}${rotate ? ' rotate' : ''}`);
      n += rotate ? 1 : 0;
      return Promise.resolve({ role, token: `SKEP-1-digest-secret${n}`, managerAddr: '10.0.0.1:2377' });
    };
  }

  it('asks first, saying joins running with the old token will fail; Cancel rotates nothing', async () => {
    const calls: string[] = [];
    render(JoinToken, { role: 'worker', fetchToken: tokenSource(calls) });
    const rotate = screen.getByTestId('rotate-token-worker');
    rotate.focus();
    await fireEvent.click(rotate);
    const dialog = screen.getByTestId('dialog-rotate-token');
    expect(dialog.getAttribute('role')).toBe('dialog');
    expect(screen.getByTestId('dialog-message').textContent).toContain('any machine joining with it right now will fail');
    // Enter must not rotate: the destructive button is not where focus starts.
    expect(document.activeElement?.hasAttribute('data-destructive')).toBe(false);
    await fireEvent.click(screen.getByTestId('dialog-cancel'));
    await settle();
    expect(calls).toEqual([]);
    expect(document.activeElement).toBe(rotate);
  });

  it('rotates once confirmed', async () => {
    const calls: string[] = [];
    render(JoinToken, { role: 'manager', fetchToken: tokenSource(calls) });
    await fireEvent.click(screen.getByTestId('rotate-token-manager'));
    await fireEvent.click(screen.getByTestId('dialog-confirm'));
    await settle();
    expect(calls).toEqual(['manager rotate']);
    expect(screen.queryByTestId('dialog-rotate-token')).toBeNull();
    expect(screen.getByTestId('join-command-manager').textContent).toContain('secret1');
  });
});
