// Constraint parsing and matching, table-driven, against swarmkit's manager/constraint rules and texts.
import { describe, expect, it } from 'vitest';
import { nodeMatchesConstraints, parseConstraints, placementNodeFromSwarmNode } from '../../../shared/constraints.js';
import type { SwarmNode } from '../../../shared/types.js';
import { node } from '../../support/swarm-services.js';

describe('parseConstraints', () => {
  it.each([
    ['node.role==manager', { key: 'node.role', operator: '==', value: 'manager' }],
    ['node.labels.zone != east ', { key: 'node.labels.zone', operator: '!=', value: 'east' }],
    ['  engine.labels.storage==ssd', { key: 'engine.labels.storage', operator: '==', value: 'ssd' }],
    ['node.ip==10.0.0.0/24', { key: 'node.ip', operator: '==', value: '10.0.0.0/24' }],
  ])('%s parses', (expression, expected) => {
    const parsed = parseConstraints([expression]);
    expect(parsed).toEqual({ ok: true, constraints: [expected] });
  });

  it.each([
    ['node.role=manager', 'CONSTRAINT_NO_OPERATOR', 'constraint expected one operator from ==, !='],
    ['node.role>manager', 'CONSTRAINT_NO_OPERATOR', 'constraint expected one operator from ==, !='],
    ['==manager', 'CONSTRAINT_KEY_INVALID', "key '' is invalid"],
    ['no de==x', 'CONSTRAINT_KEY_INVALID', "key 'no de' is invalid"],
    ['node.role==', 'CONSTRAINT_VALUE_INVALID', "value '' is invalid"],
    ['node.labels.a==b!=c', 'CONSTRAINT_VALUE_INVALID', "value 'b!=c' is invalid"],
    ['node.labels.a==<x>', 'CONSTRAINT_VALUE_INVALID', "value '<x>' is invalid"],
  ])('%s is refused with %s', (expression, code, message) => {
    const parsed = parseConstraints(['node.role==worker', expression]);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect({ code: parsed.error.code, message: parsed.error.message }).toEqual({ code, message });
  });
});

describe('nodeMatchesConstraints', () => {
  const n = node('abc123', {
    hostname: 'Pi-1',
    role: 'manager',
    addr: '192.168.1.20',
    labels: { zone: 'East', 'Disk': 'ssd' },
    engineLabels: { storage: 'fast' },
    platform: { os: 'linux', architecture: 'aarch64' },
  });
  it.each([
    ['node.id==abc123', true],
    ['node.id!=abc123', false],
    ['node.hostname==pi-1', true],
    ['NODE.HOSTNAME==PI-1', true],
    ['node.role==manager', true],
    ['node.role==worker', false],
    ['node.role!=worker', true],
    ['node.platform.os==linux', true],
    ['node.platform.arch==aarch64', true],
    ['node.platform.arch==amd64', false],
    ['node.labels.zone==east', true],
    ['node.labels.zone!=east', false],
    ['node.labels.Disk==ssd', true],
    ['node.labels.disk==ssd', false],
    ['node.labels.missing==x', false],
    ['node.labels.missing!=x', true],
    ['engine.labels.storage==fast', true],
    ['engine.labels.storage!=fast', false],
    ['node.ip==192.168.1.20', true],
    ['node.ip!=192.168.1.20', false],
    ['node.ip==192.168.1.0/24', true],
    ['node.ip==10.0.0.0/8', false],
    ['node.ip!=10.0.0.0/8', true],
    ['node.ip==not-an-ip', false],
    ['node.unknown==x', false],
  ])('%s → %s', (expression, expected) => {
    const parsed = parseConstraints([expression]);
    if (!parsed.ok) throw parsed.error;
    expect(nodeMatchesConstraints(parsed.constraints, n)).toBe(expected);
  });

  it('needs every constraint to hold', () => {
    const parsed = parseConstraints(['node.role==manager', 'node.labels.zone==west']);
    if (!parsed.ok) throw parsed.error;
    expect(nodeMatchesConstraints(parsed.constraints, n)).toBe(false);
  });

  it('builds the placement view from the API node', () => {
    const swarmNode: SwarmNode = {
      id: 'n1',
      createdAt: '',
      updatedAt: '',
      spec: { role: 'worker', availability: 'pause', labels: { a: 'b' } },
      role: 'worker',
      description: { hostname: 'nas', platform: { os: 'linux', architecture: 'x86_64' }, resources: { cpus: 2, memoryBytes: 1024 }, engineVersion: '28' },
      status: { state: 'ready', addr: '10.1.1.1', message: '' },
    };
    expect(placementNodeFromSwarmNode(swarmNode)).toMatchObject({ id: 'n1', hostname: 'nas', availability: 'pause', addr: '10.1.1.1', labels: { a: 'b' }, resources: { nanoCpus: 2e9, memoryBytes: 1024 } });
  });
});
