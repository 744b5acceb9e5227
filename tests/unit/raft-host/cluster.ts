// An in-process cluster of RaftNodes with real WAL directories, for host tests and the benchmark.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Message } from '../../../electron/raft/core/index.js';
import { RaftNode, type RaftNodeOptions, type StateMachine } from '../../../electron/raft/node.js';
import type { Entry, NodeId } from '../../../electron/raft/types.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A key-value map; entries are "key=value"; apply returns "key@index". */
export class KvStateMachine implements StateMachine<string> {
  map = new Map<string, string>();
  appliedEntries = 0;
  lastApplied = 0;
  restores = 0;

  apply(entry: Entry): string {
    const text = dec.decode(entry.data);
    const eq = text.indexOf('=');
    const key = text.slice(0, eq);
    this.map.set(key, text.slice(eq + 1));
    this.appliedEntries++;
    if (entry.index <= this.lastApplied) throw new Error(`applied ${entry.index} after ${this.lastApplied}`);
    this.lastApplied = entry.index;
    return `${key}@${entry.index}`;
  }

  snapshot(): Uint8Array {
    return enc.encode(JSON.stringify({ map: [...this.map], lastApplied: this.lastApplied }));
  }

  restore(data: Uint8Array): void {
    const parsed = JSON.parse(dec.decode(data)) as { map: [string, string][]; lastApplied: number };
    this.map = new Map(parsed.map);
    this.lastApplied = parsed.lastApplied;
    this.restores++;
  }
}

export function kv(key: string, value: string): Uint8Array {
  return enc.encode(`${key}=${value}`);
}

export interface ClusterOptions {
  readonly ids?: readonly NodeId[];
  readonly nodeOptions?: Partial<RaftNodeOptions<string>>;
}

/** Delivers messages asynchronously (setImmediate), like a network; a node can be cut off both ways. */
export class LocalCluster {
  readonly nodes = new Map<NodeId, RaftNode<string>>();
  readonly machines = new Map<NodeId, KvStateMachine>();
  readonly dataDirs = new Map<NodeId, string>();
  readonly isolated = new Set<NodeId>();
  /** Return true to drop a message (loss injection). */
  dropIf: ((msg: Message) => boolean) | null = null;
  readonly ids: readonly NodeId[];
  messages = 0;

  private constructor(
    readonly root: string,
    private readonly options: ClusterOptions,
  ) {
    this.ids = options.ids ?? ['n1', 'n2', 'n3'];
  }

  static async start(options: ClusterOptions = {}): Promise<LocalCluster> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'skep-raft-host-'));
    const c = new LocalCluster(root, options);
    for (const id of c.ids) await c.startNode(id);
    return c;
  }

  async startNode(id: NodeId, extra: Partial<RaftNodeOptions<string>> = {}): Promise<RaftNode<string>> {
    const dataDir = this.dataDirs.get(id) ?? path.join(this.root, id);
    this.dataDirs.set(id, dataDir);
    const sm = new KvStateMachine();
    const node = await RaftNode.start<string>({
      id,
      dataDir,
      stateMachine: sm,
      transport: { send: (to, msg) => this.deliver(id, to, msg) },
      bootstrap: { voters: [...this.ids], learners: [] },
      tickMs: 10,
      ...this.options.nodeOptions,
      ...extra,
    });
    this.nodes.set(id, node);
    this.machines.set(id, sm);
    return node;
  }

  private deliver(from: NodeId, to: NodeId, msg: Message): void {
    this.messages++;
    if (this.dropIf?.(msg)) return;
    setImmediate(() => {
      if (this.isolated.has(from) || this.isolated.has(to)) return;
      const node = this.nodes.get(to);
      if (node && !node.isStopped) node.receive(msg);
    });
  }

  node(id: NodeId): RaftNode<string> {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  machine(id: NodeId): KvStateMachine {
    const m = this.machines.get(id);
    if (!m) throw new Error(`no state machine ${id}`);
    return m;
  }

  /** The node every running member agrees is leader. */
  async waitForLeader(timeoutMs = 20_000): Promise<RaftNode<string>> {
    let leader: RaftNode<string> | undefined;
    await waitFor(() => {
      const running = [...this.nodes.values()].filter((n) => !n.isStopped && !this.isolated.has(n.id));
      const views = running.map((n) => n.status().leader);
      const l = views[0];
      if (!l || views.some((v) => v !== l)) return false;
      leader = this.nodes.get(l);
      return leader !== undefined && !leader.isStopped && leader.status().role === 'leader';
    }, timeoutMs);
    return leader!;
  }

  followers(leader: RaftNode<string>): RaftNode<string>[] {
    return [...this.nodes.values()].filter((n) => n !== leader && !n.isStopped);
  }

  async stopNode(id: NodeId): Promise<void> {
    await this.node(id).stop();
  }

  async close(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
    await rm(this.root, { recursive: true, force: true });
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
