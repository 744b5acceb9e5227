// The Swarm page's init and join forms refuse addresses that can't work, with Docker's words, at
// the field they are about (aria-invalid, aria-describedby); what only the node can tell comes back
// as a field error too. A refused label key sits at the label field in a node's details.
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import NodeDetail from '../../renderer/src/components/NodeDetail.svelte';
import Swarm from '../../renderer/src/pages/Swarm.svelte';
import { feedback } from '../../renderer/src/stores/feedback.svelte.js';
import { skepError } from '../../shared/errors.js';
import type { InitRequest, JoinRequest, JoinTokenResult, NetworkAddress, SwarmNode } from '../../shared/types.js';
import { IDS, NODES } from './fixtures.js';

afterEach(() => {
  cleanup();
  feedback.clear();
});

const ADDRESSES: readonly NetworkAddress[] = [
  { interface: 'lo', address: '127.0.0.1', family: 'IPv4', internal: true },
  { interface: 'eth0', address: '192.168.1.10', family: 'IPv4', internal: false },
];

function renderForms(): { inits: InitRequest[]; joins: JoinRequest[] } {
  const inits: InitRequest[] = [];
  const joins: JoinRequest[] = [];
  render(Swarm, {
    status: { state: 'inactive' },
    busy: false,
    addresses: ADDRESSES,
    oninit: (request: InitRequest) => (inits.push(request), Promise.resolve(true)),
    onjoin: (request: JoinRequest) => (joins.push(request), Promise.resolve(true)),
    onleave: () => undefined,
    fetchToken: (role: 'worker' | 'manager'): Promise<JoinTokenResult> => Promise.resolve({ role, token: '', managerAddr: '' }),
  });
  return { inits, joins };
}

async function type(testId: string, value: string): Promise<HTMLInputElement> {
  const input = screen.getByTestId(testId) as HTMLInputElement;
  await fireEvent.input(input, { target: { value } });
  return input;
}

/** The field is marked invalid and described by the element that holds `text`. */
function expectInvalid(input: HTMLElement, text: string): void {
  expect(input.getAttribute('aria-invalid')).toBe('true');
  const describedBy = input.getAttribute('aria-describedby');
  expect(describedBy).toBeTruthy();
  expect(document.getElementById(describedBy!)?.textContent).toBe(text);
}

function expectValid(input: HTMLElement): void {
  expect(input.getAttribute('aria-invalid')).toBeNull();
  expect(input.getAttribute('aria-describedby')).toBeNull();
}

describe('init form', () => {
  const cases = [
    ['init-advertise', '999.1.1.1', skepError('ADVERTISE_ADDR_INVALID').message],
    ['init-advertise', 'http://foo bar/', skepError('ADDR_PROTO', 'http://foo bar/').message],
    ['init-advertise', '0.0.0.0', skepError('ADVERTISE_ADDR_INVALID').message],
    ['init-advertise', 'wlan9', skepError('ADVERTISE_ADDR_INVALID').message],
    ['init-listen', '10.0.0.1:70000', skepError('ADDR_PORT_INVALID', '10.0.0.1:70000').message],
    ['init-listen', 'nas.local:2377', skepError('LISTEN_ADDR_INVALID').message],
  ] as const;
  for (const [field, value, text] of cases) {
    it(`refuses ${field} "${value}" at the field, and starts nothing`, async () => {
      const { inits } = renderForms();
      const input = await type(field, value);
      await fireEvent.submit(screen.getByTestId('init-form'));
      expect(inits).toEqual([]);
      expectInvalid(input, text);
      // Editing the field takes the mark away.
      await type(field, '');
      expectValid(input);
    });
  }

  it('starts the swarm with addresses that can work: an interface, an IP with a port', async () => {
    const { inits } = renderForms();
    await type('init-advertise', 'eth0');
    await type('init-listen', '0.0.0.0:4567');
    await fireEvent.submit(screen.getByTestId('init-form'));
    expect(inits).toEqual([{ listenAddr: '0.0.0.0:4567', advertiseAddr: 'eth0' }]);
    expectValid(screen.getByTestId('init-advertise'));
    expect(screen.queryByTestId('init-advertiseAddr-error')).toBeNull();
  });
});

describe('join form', () => {
  it("refuses a manager address that isn't HOST:PORT at that field", async () => {
    const { joins } = renderForms();
    await type('join-token', 'SKEP-1-abc-def');
    const remote = await type('join-remote', 'manager lan:2377');
    await fireEvent.submit(screen.getByTestId('join-form'));
    expect(joins).toEqual([]);
    expectInvalid(remote, skepError('REMOTE_ADDR_INVALID', 'manager lan:2377').message);
  });

  it("shows the node's own refusal (a port in use) at the field it names", async () => {
    const { joins } = renderForms();
    await type('join-token', 'SKEP-1-abc-def');
    await type('join-remote', '192.168.1.20:2377');
    await fireEvent.submit(screen.getByTestId('join-form'));
    expect(joins).toHaveLength(1);
    const text = skepError('LISTEN_FAILED', '0.0.0.0:2377', 'the address is already in use').message;
    feedback.errorAt({ form: 'join', field: 'listenAddr', text });
    await Promise.resolve();
    expectInvalid(screen.getByTestId('join-listen'), text);
    expectValid(screen.getByTestId('join-remote'));
    // The same field of the other form is not marked.
    expectValid(screen.getByTestId('init-listen'));
  });
});

describe('label field', () => {
  it('shows a refused label at the key field, marked invalid', async () => {
    const worker: SwarmNode = NODES[3]!;
    const noop = (): void => undefined;
    render(NodeDetail, {
      node: worker,
      selfId: IDS.a,
      actions: { promote: noop, demote: noop, setAvailability: noop, addLabel: () => Promise.resolve(false), removeLabel: noop, remove: noop },
      onclose: noop,
    });
    const key = screen.getByTestId('label-key');
    expectValid(key);
    const text = skepError('LABELS_TOO_LARGE', worker.id, 70_000, 65_536).message;
    feedback.errorAt({ form: `label-${worker.id}`, field: 'labelKey', text });
    await Promise.resolve();
    expectInvalid(key, text);
    expect(screen.getByTestId('label-error').textContent).toBe(text);
  });
});
