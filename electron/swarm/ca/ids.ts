// Random identifiers in Swarm's shape: 128 random bits written in base36, zero-padded.
import { randomBytes } from 'node:crypto';
import { isNodeId } from '../../net/index.js';

/** ceil(log36(2^128)): every 128-bit value fits in 25 base36 digits. */
export const NODE_ID_LENGTH = 25;

export function bytesToBase36(bytes: Uint8Array, width: number): string {
  const hex = Buffer.from(bytes).toString('hex');
  const n = hex.length === 0 ? 0n : BigInt(`0x${hex}`);
  return n.toString(36).padStart(width, '0');
}

/** 128 random bits as 25 lowercase base36 characters. */
export function randomBase36Id(): string {
  return bytesToBase36(randomBytes(16), NODE_ID_LENGTH);
}

/** A new node ID, as Swarm's identity.NewID. */
export function newNodeId(): string {
  return randomBase36Id();
}

export { isNodeId };
