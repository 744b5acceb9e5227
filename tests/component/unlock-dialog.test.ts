// The unlock dialog of a locked manager: the key is asked for in a password field, a wrong key gets
// the catalog's words, the keychain is offered only where there is one.
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import UnlockDialog from '../../renderer/src/components/UnlockDialog.svelte';
import { skepError } from '../../shared/errors.js';
import type { UnlockRequest } from '../../shared/types.js';

afterEach(cleanup);

const KEY = 'SKEPKEY-1-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';

function show(canRemember: boolean, answer: (request: UnlockRequest) => Promise<void>): { requests: UnlockRequest[]; unlocked: number[] } {
  const requests: UnlockRequest[] = [];
  const unlocked: number[] = [];
  render(UnlockDialog, {
    nodeId: 'abcdefghijklmnopqrstuvwxy',
    canRemember,
    unlock: (request: UnlockRequest) => {
      requests.push(request);
      return answer(request);
    },
    onunlocked: () => unlocked.push(1),
  });
  return { requests, unlocked };
}

describe('UnlockDialog', () => {
  it('asks for the key in a password field and refuses to send nothing', () => {
    show(false, async () => {});
    expect(screen.getByRole('heading', { name: 'This manager is locked' })).toBeTruthy();
    expect(screen.getByTestId('unlock-key').getAttribute('type')).toBe('password');
    expect((screen.getByTestId('unlock-submit') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByRole('checkbox')).toBeNull();
  });

  it('shows the catalog\'s words for a wrong key and stays', async () => {
    const { requests, unlocked } = show(false, async () => {
      throw skepError('UNLOCK_INVALID_KEY');
    });
    await fireEvent.input(screen.getByTestId('unlock-key'), { target: { value: 'SKEPKEY-1-wrong' } });
    await fireEvent.click(screen.getByTestId('unlock-submit'));
    await waitFor(() => expect(screen.getByTestId('unlock-error').textContent).toContain('swarm could not be unlocked: invalid key provided'));
    expect(requests).toEqual([{ key: 'SKEPKEY-1-wrong' }]);
    expect(unlocked).toEqual([]);
  });

  it('sends the key (and the wish to keep it, in the app) and reports success', async () => {
    const { requests, unlocked } = show(true, async () => {});
    await fireEvent.input(screen.getByTestId('unlock-key'), { target: { value: KEY } });
    await fireEvent.click(screen.getByRole('checkbox'));
    await fireEvent.click(screen.getByTestId('unlock-submit'));
    await waitFor(() => expect(unlocked).toEqual([1]));
    expect(requests).toEqual([{ key: KEY, remember: true }]);
    expect((screen.getByTestId('unlock-key') as HTMLInputElement).value).toBe('');
  });
});
