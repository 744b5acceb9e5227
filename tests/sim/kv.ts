// A tiny KV state machine for the simulation: the thing whose history must be linearizable.

export type KvOpKind = 'put' | 'append' | 'get';

export interface KvCommand {
  /** Unique per invocation, so a duplicated proposal applies once. */
  readonly opId: number;
  readonly kind: KvOpKind;
  readonly key: string;
  readonly value: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCommand(c: KvCommand): Uint8Array {
  return enc.encode(JSON.stringify(c));
}

export function decodeCommand(data: Uint8Array): KvCommand | null {
  if (data.length === 0) return null;
  return JSON.parse(dec.decode(data)) as KvCommand;
}

export class KvStateMachine {
  private data = new Map<string, string>();
  private seen = new Set<number>();

  /** Returns the value read (get) or written-after (put/append); null for a duplicate. */
  apply(c: KvCommand): string | null {
    if (this.seen.has(c.opId)) return null;
    this.seen.add(c.opId);
    const before = this.data.get(c.key) ?? '';
    if (c.kind === 'put') this.data.set(c.key, c.value);
    else if (c.kind === 'append') this.data.set(c.key, before + c.value);
    return this.data.get(c.key) ?? '';
  }

  get(key: string): string {
    return this.data.get(key) ?? '';
  }

  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify({ d: [...this.data], s: [...this.seen] }));
  }

  static restore(data: Uint8Array): KvStateMachine {
    const kv = new KvStateMachine();
    if (data.length === 0) return kv;
    const parsed = JSON.parse(dec.decode(data)) as { d: [string, string][]; s: number[] };
    kv.data = new Map(parsed.d);
    kv.seen = new Set(parsed.s);
    return kv;
  }
}
