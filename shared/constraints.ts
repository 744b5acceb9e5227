// Placement constraints as Swarm parses and matches them (swarmkit manager/constraint), and the small
// view of a node that placement needs. Pure: the control API validates with it, the scheduler filters
// with it, the global orchestrator and the constraint enforcer decide with it.
import { skepError, type SkepError } from './errors.js';
import type { NodeAvailability, NodeRole, NodeState, SwarmNode } from './types.js';

/** What placement needs to know about a node; the manager builds it from its node records. */
export interface PlacementNode {
  readonly id: string;
  readonly hostname: string;
  readonly role: NodeRole;
  readonly availability: NodeAvailability;
  readonly state: NodeState;
  /** The node's IP address as the managers see it (node.ip); '' when unknown. */
  readonly addr: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly engineLabels: Readonly<Record<string, string>>;
  readonly platform: { readonly os: string; readonly architecture: string };
  /** What the node has in total; the scheduler subtracts the reservations of the tasks it runs. */
  readonly resources: { readonly nanoCpus: number; readonly memoryBytes: number };
}

/** A PlacementNode from the API's node view; engine labels are what the node's agent reported of its Docker Engine. */
export function placementNodeFromSwarmNode(node: Pick<SwarmNode, 'id' | 'description' | 'role' | 'spec' | 'status'>, engineLabels: Readonly<Record<string, string>> = node.description.engineLabels ?? {}): PlacementNode {
  return {
    id: node.id,
    hostname: node.description.hostname,
    role: node.role,
    availability: node.spec.availability,
    state: node.status.state,
    addr: node.status.addr,
    labels: node.spec.labels,
    engineLabels,
    platform: node.description.platform,
    resources: { nanoCpus: Math.round(node.description.resources.cpus * 1e9), memoryBytes: node.description.resources.memoryBytes },
  };
}

export const NODE_LABEL_PREFIX = 'node.labels.';
export const ENGINE_LABEL_PREFIX = 'engine.labels.';

export interface Constraint {
  readonly key: string;
  readonly operator: '==' | '!=';
  readonly value: string;
}

// swarmkit's patterns: a key is alphanumeric with - _ . ; a value can't hold an operator.
const KEY_PATTERN = /^[a-z_][a-z0-9\-_.]+$/i;
const VALUE_PATTERN = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;
const OPERATORS = ['==', '!='] as const;

/** Parses constraints as Swarm does; the first bad one is reported with Swarm's text. */
export function parseConstraints(expressions: readonly string[]): { ok: true; constraints: Constraint[] } | { ok: false; error: SkepError } {
  const constraints: Constraint[] = [];
  for (const expression of expressions) {
    const operator = OPERATORS.find((op) => expression.includes(op));
    if (operator === undefined) return { ok: false, error: skepError('CONSTRAINT_NO_OPERATOR') };
    const at = expression.indexOf(operator);
    const key = expression.slice(0, at).trim();
    if (!KEY_PATTERN.test(key)) return { ok: false, error: skepError('CONSTRAINT_KEY_INVALID', key) };
    const value = expression.slice(at + operator.length).trim();
    if (!VALUE_PATTERN.test(value)) return { ok: false, error: skepError('CONSTRAINT_VALUE_INVALID', value) };
    constraints.push({ key, operator, value });
  }
  return { ok: true, constraints };
}

/** Parses constraints that were validated on the way in; a bad one (it can't happen) matches nothing. */
export function compileConstraints(expressions: readonly string[]): Constraint[] | null {
  const parsed = parseConstraints(expressions);
  return parsed.ok ? parsed.constraints : null;
}

function matches(constraint: Constraint, actual: string): boolean {
  // Values compare case-insensitively, as Swarm's strings.EqualFold.
  const equal = constraint.value.toLowerCase() === actual.toLowerCase();
  return constraint.operator === '==' ? equal : !equal;
}

function hasPrefix(key: string, prefix: string): boolean {
  return key.length > prefix.length && key.slice(0, prefix.length).toLowerCase() === prefix;
}

/** Whether `node` satisfies every constraint (an unknown key never does, as in Swarm). */
export function nodeMatchesConstraints(constraints: readonly Constraint[], node: PlacementNode): boolean {
  for (const c of constraints) {
    const key = c.key.toLowerCase();
    let ok: boolean;
    if (key === 'node.id') ok = matches(c, node.id);
    else if (key === 'node.hostname') ok = matches(c, node.hostname);
    else if (key === 'node.ip') ok = matchesIp(c, node.addr);
    else if (key === 'node.role') ok = matches(c, node.role);
    else if (key === 'node.platform.os') ok = matches(c, node.platform.os);
    else if (key === 'node.platform.arch') ok = matches(c, node.platform.architecture);
    // Label names themselves are case-sensitive; only the prefix is not.
    else if (hasPrefix(c.key, NODE_LABEL_PREFIX)) ok = matches(c, node.labels[c.key.slice(NODE_LABEL_PREFIX.length)] ?? '');
    else if (hasPrefix(c.key, ENGINE_LABEL_PREFIX)) ok = matches(c, node.engineLabels[c.key.slice(ENGINE_LABEL_PREFIX.length)] ?? '');
    else ok = false;
    if (!ok) return false;
  }
  return true;
}

function matchesIp(c: Constraint, addr: string): boolean {
  const host = stripPort(addr);
  const nodeIp = parseIpv4(host);
  const slash = c.value.indexOf('/');
  if (slash < 0) {
    const ip = parseIpv4(c.value);
    // A malformed address matches nothing, as in Swarm; IPv6 compares as text.
    if (ip === null) return c.value.includes(':') ? (c.operator === '==') === (c.value.toLowerCase() === host.toLowerCase()) : false;
    const equal = nodeIp !== null && nodeIp === ip;
    return c.operator === '==' ? equal : !equal;
  }
  const base = parseIpv4(c.value.slice(0, slash));
  const bits = Number(c.value.slice(slash + 1));
  if (base === null || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const within = nodeIp !== null && (nodeIp & mask) >>> 0 === (base & mask) >>> 0;
  return c.operator === '==' ? within : !within;
}

function stripPort(addr: string): string {
  const m = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(addr);
  return m ? m[1]! : addr;
}

function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value >>> 0;
}
