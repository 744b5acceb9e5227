import {
  type Message,
  ProposalDroppedError,
  RaftCore,
  type Ready,
  type UnsafeKnobs,
  seededRandom,
} from '../../electron/raft/core/index.js';
import type { Entry, NodeId } from '../../electron/raft/types.js';
import { InvariantViolation, SafetyChecker, type NodeView } from './invariants.js';
import { HostilePeer, SIM_MAX_INCOMING_ENTRIES, describeHostile } from './hostile.js';
import { KvStateMachine, decodeCommand, encodeCommand, type KvCommand, type KvOpKind } from './kv.js';
import { type CheckResult, type HistoryCheck, type HistoryOp, checkLinearizable } from './linearizability.js';
import type { FaultMix } from './mixes.js';
import { SimNetwork } from './network.js';
import { SimStorage } from './storage.js';

export interface SimOptions {
  readonly seed: number;
  readonly size: number;
  readonly mix: FaultMix;
  readonly unsafe?: UnsafeKnobs;
  readonly trace?: (line: string) => void;
  /** A deliberate host bug: serve reads from the local state machine at once, skipping ReadIndex. */
  readonly localReads?: boolean;
  /** Step budget per key for the linearizability checker. */
  readonly linBudget?: number;
  /** Set false to run without the hostile peer (the mix's hostileRate); the rest of the run is the same. */
  readonly hostile?: boolean;
}

export interface SimResult {
  readonly seed: number;
  readonly size: number;
  readonly mix: string;
  readonly ok: boolean;
  /** Which property broke, when not ok. */
  readonly invariant?: string;
  readonly error?: string;
  readonly linearizability: CheckResult;
  readonly ops: number;
  readonly completedOps: number;
  readonly leadersElected: number;
  readonly steps: number;
  /** Messages the hostile peer injected, and why the door dropped them (every one must be dropped). */
  readonly hostileMessages: number;
  readonly hostileDrops: Readonly<Record<string, number>>;
}

interface WaitingRead {
  readonly histIndex: number;
  readonly key: string;
  index: number | null;
}

class SimNode {
  core: RaftCore | null = null;
  kv = new KvStateMachine();
  readonly storage = new SimStorage();
  applied = 0;
  commit = 0;
  incarnation = 0;
  leaderTerm = 0;
  downUntil = 0;
  asleepUntil = 0;
  /** opId → history index of ops submitted here and awaiting their apply. */
  readonly waiting = new Map<number, number>();
  readonly reads = new Map<string, WaitingRead>();
  constructor(readonly id: NodeId) {}

  view(): NodeView {
    const core = this.core!;
    return {
      id: this.id,
      termAt: (i) => core.termAt(i),
      firstIndex: () => core.status().firstIndex,
      lastIndex: () => core.status().lastIndex,
    };
  }
}

interface Client {
  busyUntil: number;
  pending: { node: SimNode; histIndex: number; opId: number; deadline: number; readCtx?: string } | null;
}

const KEYS = ['x', 'y', 'z'];
/**
 * After healing, the cluster must elect a leader and bring every member up to date. Slow is fine
 * (a big snapshot in small chunks), stuck is not: fail after this long without any apply or
 * snapshot chunk, or after the hard cap.
 */
const STALL_TICKS = 300;
const CONVERGENCE_MAX_TICKS = 5000;

/**
 * A seeded world: N hosts driving real RaftCores, a hostile network, crashes that keep
 * only fsynced state, and clients whose history is checked for linearizability.
 * Same seed, same run: every choice comes from one PRNG.
 */
export class Simulation {
  private readonly rand: () => number;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly net = new SimNetwork();
  private readonly checker = new SafetyChecker();
  private readonly history: {
    id: number;
    key: string;
    kind: KvOpKind;
    value: string;
    output: string | null;
    call: number;
    ret: number;
  }[] = [];
  private readonly clients: Client[] = [];
  private now = 0;
  private clock = 0;
  private nextOpId = 1;
  private nextNodeNum: number;
  private leadersElected = 0;
  private leaderHint: NodeId | null = null;
  /** Moves whenever some node applies an entry or receives a snapshot chunk. */
  private progressMark = 0;
  /** Off once healed: no faults, no new client operations. */
  private faultsOn = true;
  private readonly slowLinks = new Map<string, { until: number; extra: number }>();
  private readonly mix: FaultMix;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly hostile: HostilePeer | null;
  /**
   * Whether hosts vouch for peers outside a node's configuration, as a daemon does for manager certificates
   * (every machine of the simulation holds one; the hostile peer does not). Odd seeds do, even seeds run the
   * core's own rule alone.
   */
  private readonly hostsVouch: boolean;
  private hostileMessages = 0;
  private readonly hostileDrops: Record<string, number> = {};

  constructor(private readonly opts: SimOptions) {
    this.rand = seededRandom(opts.seed * 7919 + 17);
    this.mix = opts.mix;
    this.trace = opts.trace;
    this.hostile = opts.hostile === false || this.mix.hostileRate <= 0 ? null : new HostilePeer(opts.seed);
    this.hostsVouch = opts.seed % 2 === 1;
    const ids = Array.from({ length: opts.size }, (_, i) => `n${i + 1}`);
    this.nextNodeNum = opts.size + 1;
    for (const id of ids) {
      const node = new SimNode(id);
      this.nodes.set(id, node);
      node.core = this.newCore(node, { bootstrap: { voters: ids, learners: [] } });
      node.applied = node.core.status().applied;
    }
    for (let i = 0; i < this.mix.clients; i++) this.clients.push({ busyUntil: 0, pending: null });
  }

  /** The client history (for debugging the checker). */
  clientHistory(): readonly HistoryOp[] {
    return this.history.filter((h) => !(h.kind === 'get' && h.ret === Infinity));
  }

  run(): SimResult {
    let violation: { invariant: string; error: string } | undefined;
    try {
      for (let s = 0; s < this.mix.steps; s++) this.step(true);
      this.healEverything();
      this.awaitConvergence();
    } catch (err) {
      violation = classify(err);
      this.log(`!! ${violation.invariant}: ${violation.error}`);
    }
    const hist: HistoryOp[] = this.history.filter((h) => !(h.kind === 'get' && h.ret === Infinity));
    const lin: HistoryCheck = violation ? { result: 'ok', steps: 0 } : checkLinearizable(hist, this.opts.linBudget ?? 100_000);
    if (!violation && lin.result === 'illegal') {
      violation = { invariant: 'linearizability', error: `history of key ${lin.badKey ?? '?'} is not linearizable` };
      this.log(`!! ${violation.error}`);
      if (this.trace) for (const h of hist.filter((x) => x.key === lin.badKey)) this.log(`   ${formatOp(h)}`);
    }
    return {
      seed: this.opts.seed,
      size: this.opts.size,
      mix: this.mix.name,
      ok: violation === undefined,
      ...(violation ?? {}),
      linearizability: lin.result,
      ops: hist.length,
      completedOps: hist.filter((h) => h.ret !== Infinity).length,
      leadersElected: this.leadersElected,
      steps: this.now,
      hostileMessages: this.hostileMessages,
      hostileDrops: { ...this.hostileDrops },
    };
  }

  // ---- one tick of the world ----

  private step(faults: boolean): void {
    this.now++;
    this.faultsOn = faults;
    if (faults) this.injectFaults();
    this.restartAndWake();
    this.deliver();
    if (faults) this.injectHostile();
    for (const n of this.nodes.values()) if (this.isRunning(n)) n.core!.tick();
    this.runClients();
    for (const n of this.nodes.values()) if (this.isRunning(n)) this.handleReadies(n);
  }

  private isRunning(n: SimNode): boolean {
    return n.core !== null && n.asleepUntil <= this.now;
  }

  private deliver(): void {
    const due = this.net.takeDue(this.now, (to) => {
      const n = this.nodes.get(to);
      if (!n || n.core === null) return 'drop';
      return n.asleepUntil > this.now ? 'hold' : 'yes';
    });
    for (const m of due) {
      const n = this.nodes.get(m.to);
      if (!n?.core) continue;
      if (this.net.isBlocked(m.from, m.to, this.now)) continue;
      if (m.type === 'snap') this.progressMark++;
      if (this.trace) this.log(`${m.from}→${m.to} ${formatMessage(m)}`);
      n.core.step(m);
    }
  }

  /**
   * The hostile peer's turn: each message it sends straight into a node's door must be dropped and change
   * nothing but the drop counter (the node's state and its pending Ready stay as they were).
   */
  private injectHostile(): void {
    const h = this.hostile;
    if (!h || !h.chance(this.mix.hostileRate)) return;
    const running = [...this.nodes.values()].filter((n) => this.isRunning(n));
    const n = h.pick(running);
    const core: RaftCore | null = n?.core ?? null;
    if (!n || !core) return;
    for (let i = h.chance(0.3) ? 3 : 1; i > 0; i--) {
      const attack = h.craft(n.id, core, !this.hostsVouch);
      const before = observable(core);
      try {
        core.step(attack.message as Message);
      } catch (err) {
        throw new InvariantViolation('ingress', `${n.id} threw on a hostile message (${describeHostile(attack)}): ${String(err)}`);
      }
      const after = observable(core);
      const reason = Object.keys(after.drops).find((k) => after.drops[k] !== before.drops[k]);
      if (reason === undefined || after.state !== before.state) {
        throw new InvariantViolation('ingress', `${n.id} took a hostile message (${describeHostile(attack)})`);
      }
      this.hostileMessages++;
      this.hostileDrops[reason] = (this.hostileDrops[reason] ?? 0) + 1;
      if (this.trace) this.log(`hostile → ${n.id} ${describeHostile(attack)}: dropped (${reason})`);
    }
  }

  private sendAll(messages: readonly Message[]): void {
    const mix = this.mix;
    for (const m of messages) {
      if (this.rand() < mix.dropRate) continue;
      const copies = this.rand() < mix.dupRate ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        let delay = mix.minDelay + Math.floor(this.rand() * (mix.maxDelay - mix.minDelay + 1));
        if (this.rand() < mix.longDelayRate) delay += 10 + Math.floor(this.rand() * 30);
        const slow = this.slowLinks.get(`${m.from}>${m.to}`);
        if (slow && slow.until > this.now) delay += slow.extra;
        this.net.send(m, this.now + delay);
      }
    }
  }

  // ---- the host: the Ready contract, done the way a real host must ----

  private handleReadies(n: SimNode): void {
    const core = n.core!;
    while (core.hasReady()) {
      const rd = core.ready();
      const commitMoved = this.persist(n, rd);
      this.observeLeadership(n, core);
      const leading = (rd.softState?.role ?? core.status().role) === 'leader';
      const becameLeader = rd.softState?.role === 'leader';
      if (this.faultsOn && leading && (becameLeader || commitMoved) && this.rand() < this.mix.leaderCrashBeforeSendRate) {
        // Fsynced, then died before sending: legal, and the narrowest window for commit bugs.
        this.log(`${n.id} crashes after persisting, before sending (${becameLeader ? 'just elected' : 'commit moved'})`);
        this.crash(n);
        return;
      }
      this.sendAll(rd.messages);
      this.applyReady(n, rd);
      core.advance();
      if (rd.softState && this.trace) {
        this.log(`${n.id} is ${rd.softState.role} (leader ${rd.softState.leader ?? '-'}) term ${core.status().term}`);
      }
      if (rd.softState?.leader) this.leaderHint = rd.softState.leader;
      this.serveReads(n);
      const votedNow = rd.messages.some((m) => m.type === 'voteResp' && !m.reject);
      if (this.faultsOn && votedNow && this.rand() < this.mix.voterCrashRate) {
        this.log(`${n.id} crashes right after voting`);
        this.crash(n);
        return;
      }
    }
  }

  private observeLeadership(n: SimNode, core: RaftCore): void {
    const st = core.status();
    if (st.role === 'leader' && n.leaderTerm !== st.term) {
      if (!st.confState.voters.includes(n.id)) {
        throw new InvariantViolation('election safety', `${n.id} leads term ${st.term} without being a voter`);
      }
      n.leaderTerm = st.term;
      this.leadersElected++;
      this.checker.leaderElected(st.term, n.view());
    }
  }

  /** Returns whether the commit index moved. */
  private persist(n: SimNode, rd: Ready): boolean {
    if (rd.snapshot) n.storage.saveSnapshot(rd.snapshot);
    const lost = n.storage.append(rd.entries);
    if (lost.length > 0) this.checker.entriesTruncated(n.id, rd.hardState?.term ?? n.core!.status().term, lost);
    if (rd.entries.length > 0) this.checker.entriesWritten(n.view(), rd.entries);
    if (!rd.hardState) {
      if (rd.mustSync) n.storage.sync();
      return false;
    }
    n.storage.setHardState(rd.hardState, rd.mustSync);
    const core = n.core!;
    const commit = rd.hardState.commit;
    this.checker.monotonic('commit', n.id, n.commit, commit);
    const moved = commit > n.commit;
    if (moved) this.checker.committedUpTo(n.view(), rd.hardState.term, n.commit, commit, (i) => core.entryAt(i));
    n.commit = commit;
    return moved;
  }

  private applyReady(n: SimNode, rd: Ready): void {
    if (rd.snapshot) {
      n.kv = KvStateMachine.restore(rd.snapshot.data);
      this.checker.monotonic('applied', n.id, n.applied, rd.snapshot.metadata.index);
      n.applied = rd.snapshot.metadata.index;
      this.progressMark++;
    }
    for (const e of rd.committedEntries) this.applyEntry(n, e);
    for (const rs of rd.readStates) {
      const key = new TextDecoder().decode(rs.context);
      const r = n.reads.get(key);
      if (r && r.index === null) r.index = rs.index;
    }
  }

  private applyEntry(n: SimNode, e: Entry): void {
    this.checker.monotonic('applied', n.id, n.applied, e.index);
    if (e.index !== n.applied + 1) throw new InvariantViolation('apply order', `${n.id} applies ${e.index} after ${n.applied}`);
    this.checker.entryApplied(n.id, e);
    n.applied = e.index;
    this.progressMark++;
    if (e.type !== 'normal') return;
    const cmd = decodeCommand(e.data);
    if (!cmd) return;
    const result = n.kv.apply(cmd);
    const h = n.waiting.get(cmd.opId);
    if (h === undefined) return;
    n.waiting.delete(cmd.opId);
    const op = this.history[h]!;
    if (result === null) return;
    op.ret = ++this.clock;
    if (op.kind === 'get') op.output = result;
    this.finishClient(cmd.opId);
  }

  private serveReads(n: SimNode): void {
    for (const [ctx, r] of n.reads) {
      if (r.index === null || n.applied < r.index) continue;
      n.reads.delete(ctx);
      const op = this.history[r.histIndex]!;
      op.output = n.kv.get(r.key);
      op.ret = ++this.clock;
      this.finishClient(op.id);
    }
  }

  // ---- clients ----

  private runClients(): void {
    for (const c of this.clients) {
      if (c.pending && this.now > c.pending.deadline) {
        // Unknown outcome: the op stays in the history with no response (it may still apply).
        c.pending.node.waiting.delete(c.pending.opId);
        if (c.pending.readCtx) c.pending.node.reads.delete(c.pending.readCtx);
        c.pending = null;
      }
      if (c.pending || this.now < c.busyUntil || !this.faultsOn) continue;
      this.invoke(c);
    }
  }

  private pickNode(): SimNode | null {
    const hint = this.leaderHint ? this.nodes.get(this.leaderHint) : undefined;
    if (hint && this.isRunning(hint) && this.rand() < 0.7) return hint;
    const live = [...this.nodes.values()].filter((n) => this.isRunning(n));
    return live.length === 0 ? null : live[Math.floor(this.rand() * live.length)]!;
  }

  private invoke(c: Client): void {
    const node = this.pickNode();
    if (!node?.core) return;
    const r = this.rand();
    const kind: KvOpKind = r < 0.3 ? 'put' : r < 0.6 ? 'append' : 'get';
    const key = KEYS[Math.floor(this.rand() * KEYS.length)]!;
    const opId = this.nextOpId++;
    // Unique, delimited values: a read shows exactly which writes it saw (the checker relies on it).
    const cmd: KvCommand = { opId, kind, key, value: kind === 'get' ? '' : `<${opId}>` };
    const viaReadIndex = kind === 'get' && this.rand() < this.mix.readIndexShare;
    const ctx = `r${opId}`;
    if (viaReadIndex && this.opts.localReads) {
      const call = ++this.clock;
      this.history.push({ id: opId, key, kind, value: '', output: node.kv.get(key), call, ret: ++this.clock });
      c.busyUntil = this.now + 1;
      return;
    }
    try {
      if (viaReadIndex) node.core.readIndex(new TextEncoder().encode(ctx));
      else node.core.propose(encodeCommand(cmd));
    } catch (err) {
      if (err instanceof ProposalDroppedError) {
        // Refused up front: never took effect, so it is not part of the history.
        c.busyUntil = this.now + 2;
        this.leaderHint = node.core.status().leader;
        return;
      }
      throw err;
    }
    const histIndex = this.history.length;
    this.history.push({ id: opId, key, kind, value: cmd.value, output: null, call: ++this.clock, ret: Infinity });
    if (viaReadIndex) node.reads.set(ctx, { histIndex, key, index: null });
    else node.waiting.set(opId, histIndex);
    c.pending = { node, histIndex, opId, deadline: this.now + this.mix.opTimeout, ...(viaReadIndex ? { readCtx: ctx } : {}) };
    if (this.trace) this.log(`client ${kind}(${key}${cmd.value ? `, ${cmd.value}` : ''}) #${opId} at ${node.id}${viaReadIndex ? ' via ReadIndex' : ''}`);
  }

  private finishClient(opId: number): void {
    for (const c of this.clients) {
      if (c.pending?.opId === opId) {
        const op = this.history[c.pending.histIndex]!;
        if (this.trace) this.log(`client #${opId} ${op.kind}(${op.key}) → ${op.output ?? 'ok'}`);
        c.pending = null;
        c.busyUntil = this.now + Math.floor(this.rand() * 3);
      }
    }
  }

  // ---- faults ----

  private injectFaults(): void {
    const mix = this.mix;
    const members = [...this.nodes.values()];
    if (this.rand() < mix.crashRate) {
      const n = pick(members.filter((x) => x.core !== null), this.rand);
      if (n) this.crash(n);
    }
    if (this.rand() < mix.leaderCrashRate) {
      const leader = this.currentLeader();
      if (leader) this.crash(leader);
    }
    if (this.rand() < mix.slowLinkRate) {
      const [a, b] = [pick(members, this.rand)!, pick(members, this.rand)!];
      if (a !== b) {
        const until = this.now + randInt(mix.partitionTicks, this.rand);
        this.slowLinks.set(`${a.id}>${b.id}`, { until, extra: 15 + Math.floor(this.rand() * 25) });
        this.log(`link ${a.id}→${b.id} is slow until ${until}`);
      }
    }
    if (this.rand() < mix.slowLeaderRate) {
      // Everything the leader sends crawls (a congested uplink): followers elect anew while its appends are still on the wire.
      const leader = this.currentLeader();
      if (leader) {
        const until = this.now + randInt(mix.partitionTicks, this.rand);
        const extra = 15 + Math.floor(this.rand() * 25);
        for (const other of members) if (other !== leader) this.slowLinks.set(`${leader.id}>${other.id}`, { until, extra });
        this.log(`leader ${leader.id} sends slowly (+${extra}) until ${until}`);
      }
    }
    if (this.rand() < mix.sleepRate) {
      const n = pick(members.filter((x) => this.isRunning(x)), this.rand);
      if (n) {
        n.asleepUntil = this.now + randInt(mix.sleepTicks, this.rand);
        this.log(`${n.id} falls asleep until ${n.asleepUntil}`);
      }
    }
    if (this.rand() < mix.partitionRate && !this.net.hasCuts(this.now)) this.partition(members);
    if (this.rand() < mix.membershipRate) this.changeMembership();
    if (this.rand() < mix.transferRate) this.transferLeadership();
    if (this.rand() < mix.snapshotRate) {
      const n = pick(members.filter((x) => this.isRunning(x)), this.rand);
      if (n) this.snapshot(n);
    }
  }

  private crash(n: SimNode): void {
    n.core = null;
    n.incarnation++;
    n.storage.crash(this.rand() < 0.5);
    this.net.dropTo(n.id);
    n.waiting.clear();
    n.reads.clear();
    n.downUntil = this.now + randInt(this.mix.downTicks, this.rand);
    this.log(`${n.id} crashes, restarts at ${n.downUntil}`);
  }

  private restartAndWake(): void {
    for (const n of this.nodes.values()) {
      if (n.core === null && n.downUntil <= this.now) this.restart(n);
    }
  }

  private restart(n: SimNode): void {
    const loaded = n.storage.load();
    n.core = this.newCore(n, {
      restore: loaded,
      applied: loaded.snapshot?.metadata.index ?? 0,
    });
    n.kv = KvStateMachine.restore(loaded.snapshot?.data ?? new Uint8Array());
    n.applied = loaded.snapshot?.metadata.index ?? 0;
    n.commit = n.core.status().commit;
    this.log(`${n.id} restarts: term ${loaded.hardState.term} vote ${loaded.hardState.vote ?? '-'} commit ${n.commit} last ${n.core.status().lastIndex}`);
  }

  private newCore(n: SimNode, extra: Partial<ConstructorParameters<typeof RaftCore>[0]>): RaftCore {
    return new RaftCore({
      id: n.id,
      random: seededRandom(this.opts.seed * 131 + n.incarnation * 7 + Number(n.id.slice(1)) * 1009),
      maxBytesPerMessage: this.mix.maxBytesPerMessage,
      maxInflightMessages: this.mix.maxInflight,
      ingressBounds: { maxEntries: SIM_MAX_INCOMING_ENTRIES },
      ...(this.hostsVouch ? { admitNonMember: (id: NodeId) => this.nodes.has(id) } : {}),
      ...(this.opts.unsafe ? { unsafe: this.opts.unsafe } : {}),
      ...extra,
    });
  }

  private partition(members: SimNode[]): void {
    const until = this.now + randInt(this.mix.partitionTicks, this.rand);
    if (this.rand() < this.mix.asymmetricShare) {
      const victim = pick(members, this.rand)!;
      const outgoing = this.rand() < 0.5;
      for (const other of members) {
        if (other === victim) continue;
        if (outgoing) this.net.block(victim.id, other.id, until);
        else this.net.block(other.id, victim.id, until);
      }
      this.log(`partition: ${victim.id} cannot ${outgoing ? 'send' : 'receive'} until ${until}`);
      return;
    }
    const side = members.filter(() => this.rand() < 0.5);
    for (const a of side) for (const b of members) if (!side.includes(b)) {
      this.net.block(a.id, b.id, until);
      this.net.block(b.id, a.id, until);
    }
    this.log(`partition: {${side.map((x) => x.id).join(',')}} | rest until ${until}`);
  }

  private currentLeader(): SimNode | null {
    let best: SimNode | null = null;
    let bestTerm = -1;
    for (const n of this.nodes.values()) {
      if (!this.isRunning(n)) continue;
      const st = n.core!.status();
      if (st.role === 'leader' && st.term > bestTerm) {
        best = n;
        bestTerm = st.term;
      }
    }
    return best;
  }

  private changeMembership(): void {
    const leader = this.currentLeader();
    if (!leader?.core) return;
    const st = leader.core.status();
    const { voters, learners } = st.confState;
    const caughtUp = learners.filter((l) => (st.progress?.[l]?.match ?? 0) >= st.commit);
    let change: Parameters<RaftCore['proposeConfChange']>[0];
    const r = this.rand();
    if (caughtUp.length > 0 && r < 0.6) change = { type: 'promote', nodeId: caughtUp[0]! };
    else if (voters.length + learners.length < this.opts.size + 2 && r < 0.8) {
      const id = `n${this.nextNodeNum}`;
      change = { type: 'addLearner', nodeId: id };
    } else if (voters.length > 3 || learners.length > 0) {
      const candidates = voters.length > 3 ? [...voters, ...learners] : learners;
      change = { type: 'removeNode', nodeId: pick(candidates, this.rand)! };
    } else return;
    try {
      leader.core.proposeConfChange(change);
    } catch (err) {
      if (err instanceof ProposalDroppedError) return;
      throw err;
    }
    if (change.type === 'addLearner') {
      // The new machine starts empty and learns everything (membership included) from the leader.
      this.nextNodeNum++;
      const node = new SimNode(change.nodeId);
      this.nodes.set(node.id, node);
      node.core = this.newCore(node, {});
    }
    this.log(`admin: propose ${change.type} ${change.nodeId} at ${leader.id}`);
  }

  private transferLeadership(): void {
    const leader = this.currentLeader();
    if (!leader?.core) return;
    const target = pick(leader.core.status().confState.voters.filter((v) => v !== leader.id), this.rand);
    if (!target) return;
    try {
      leader.core.transferLeadership(target);
      this.log(`admin: transfer leadership ${leader.id} → ${target}`);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
  }

  private snapshot(n: SimNode): void {
    const core = n.core!;
    const st = core.status();
    if (n.applied < st.firstIndex + 3) return;
    const snap = core.createSnapshot(n.applied, n.kv.snapshot());
    n.storage.saveSnapshot(snap);
    const keep = Math.floor(this.rand() * 4);
    core.compact(Math.max(st.firstIndex - 1, n.applied - keep));
    this.log(`${n.id} snapshots at ${n.applied}, compacts to ${core.status().firstIndex - 1}`);
  }

  /**
   * Liveness once the faults stop: within a bounded time some leader must commit its whole log
   * and every member must apply it. A stuck transfer, election or conf change fails here.
   */
  private awaitConvergence(): void {
    const deadline = this.now + CONVERGENCE_MAX_TICKS;
    let settledFor = 0;
    let mark = this.progressMark;
    let lastProgress = this.now;
    while (this.now < deadline && this.now - lastProgress < STALL_TICKS) {
      this.step(false);
      if (this.progressMark !== mark) {
        mark = this.progressMark;
        lastProgress = this.now;
      }
      settledFor = this.converged() ? settledFor + 1 : 0;
      // A few quiet ticks more let the clients' last operations finish.
      if (settledFor >= 5) return;
    }
    const st = [...this.nodes.values()].map((n) => {
      const s = n.core?.status();
      return s ? `${n.id}:${s.role}/t${s.term}/c${s.commit}/a${n.applied}/l${s.lastIndex}` : `${n.id}:down`;
    });
    throw new InvariantViolation('liveness', `no convergence after healing (stalled ${this.now - lastProgress} ticks): ${st.join(' ')}`);
  }

  private converged(): boolean {
    const leader = this.currentLeader();
    if (!leader?.core) return false;
    const st = leader.core.status();
    if (st.commit !== st.lastIndex || leader.applied !== st.commit) return false;
    for (const id of [...st.confState.voters, ...st.confState.learners]) {
      const n = this.nodes.get(id);
      if (!n || !this.isRunning(n) || n.applied !== st.commit) return false;
    }
    return true;
  }

  private healEverything(): void {
    this.net.healAll();
    this.slowLinks.clear();
    for (const n of this.nodes.values()) {
      n.asleepUntil = Math.min(n.asleepUntil, this.now);
      n.downUntil = Math.min(n.downUntil, this.now);
    }
    this.log('heal: all links up, all nodes up and awake');
  }

  private log(line: string): void {
    this.trace?.(`[t=${String(this.now).padStart(4)}] ${line}`);
  }
}

/** What a message could change in a node, as one string (equal before and after: no effect), and its drop counters. */
function observable(core: RaftCore): { state: string; drops: Readonly<Record<string, number>> } {
  const st = core.status();
  const state = JSON.stringify([st.term, st.vote, st.leader, st.role, st.commit, st.applied, st.lastIndex, st.firstIndex, st.confState, st.leadTransferee, st.progress, core.hasReady()]);
  return { state, drops: st.droppedMessages };
}

function classify(err: unknown): { invariant: string; error: string } {
  if (err instanceof InvariantViolation) return { invariant: err.invariant, error: err.message };
  if (err instanceof Error && err.name === 'RaftInvariantError') return { invariant: 'core assertion', error: err.message };
  return { invariant: 'crash', error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}

function pick<T>(xs: readonly T[], rand: () => number): T | undefined {
  return xs.length === 0 ? undefined : xs[Math.floor(rand() * xs.length)];
}

function randInt([lo, hi]: readonly [number, number], rand: () => number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

function formatOp(h: HistoryOp): string {
  const out = h.kind === 'get' ? ` → ${JSON.stringify(h.output)}` : '';
  return `#${h.id} ${h.kind}(${h.key}${h.value ? `, ${h.value}` : ''})${out} [${h.call}, ${h.ret === Infinity ? '∞' : h.ret}]`;
}

export function formatMessage(m: Message): string {
  const parts = [`${m.type} term=${m.term}`];
  if (m.type === 'app') parts.push(`prev=${m.index}/${m.logTerm} n=${m.entries.length} commit=${m.commit}`);
  else if (m.type === 'appResp') parts.push(m.reject ? `reject ${m.index} hint=${m.rejectHint}/${m.logTerm}` : `ack ${m.index}`);
  else if (m.type === 'vote' || m.type === 'preVote') parts.push(`last=${m.index}/${m.logTerm}${m.transfer ? ' transfer' : ''}`);
  else if (m.type === 'voteResp' || m.type === 'preVoteResp') parts.push(m.reject ? 'rejected' : 'granted');
  else if (m.type === 'heartbeat') parts.push(`commit=${m.commit}`);
  else if (m.type === 'snap' && m.snapshot) parts.push(`snapshot@${m.snapshot.metadata.index} bytes ${m.snapshot.offset}+${m.snapshot.data.length}/${m.snapshot.totalBytes}`);
  else if (m.type === 'snapResp') parts.push(`snapshot@${m.index} has ${m.rejectHint}${m.reject ? ' (resend)' : ''}`);
  return parts.join(' ');
}
