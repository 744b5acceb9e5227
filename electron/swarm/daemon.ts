// One Skep node: what `skep daemon` runs and what the desktop app embeds. It implements the whole
// API (shared/api.ts): this machine's facts, and the swarm — init, join, leave, tokens, nodes.
// A node always runs the agent session; a manager also runs Raft and the store (manager.ts).
import { rename, rm } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import type { EventListener, SkepEvent, SkepService } from '../../shared/api.js';
import { MAX_NODE_LABEL_BYTES, nodeLabelBytes } from '../../shared/api-schemas.js';
import { skepError, SkepError } from '../../shared/errors.js';
import { hasQuorum, isLastManager, removalLosesQuorum } from '../../shared/quorum.js';
import type {
  InitRequest,
  InitResult,
  JoinRequest,
  JoinResult,
  JoinTokenResult,
  NodeDescription,
  NodeRole,
  NodeUpdate,
  RaftView,
  SwarmNode,
  SwarmStatus,
  SystemInfo,
} from '../../shared/types.js';
import { SKEP_VERSION } from '../../shared/version.js';
import { probeEngine, type EngineOptions } from '../agent/engine.js';
import { readHostFacts } from '../agent/host-facts.js';
import { AgentSession, HEARTBEAT_METHOD, type HeartbeatAnswer } from '../agent/session.js';
import { ConnectionPool, formatAddress, noopLogger, RpcServer, type HandlerContext, type Logger, type TlsCredentials } from '../net/index.js';
import type { Message } from '../raft/core/index.js';
import { DiskStorage } from '../raft/storage/disk-storage.js';
import { chooseAdvertiseAddr, parseListenAddr } from './addresses.js';
import {
  caDigest,
  createNodeKeyAndCsr,
  createRootCA,
  formatJoinToken,
  issueNodeCertificate,
  JoinTokens,
  needsRenewal,
  newNodeId,
  randomBase36Id,
  readNodeCertificate,
} from './ca/index.js';
import { joinCluster, joinHandlers, type RegisteredNode } from './ca/join.js';
import { LocalStore, type LocalSwarmState, type NodeCredentials, type SecretSealer } from './local-state.js';
import { Manager, RAFT_METHOD, type HeartbeatReport } from './manager.js';
import type { NodeRecord, SwarmState } from './store.js';

export interface DaemonOptions {
  readonly dataDir: string;
  readonly engine?: EngineOptions;
  readonly logger?: Logger;
  /** Heartbeat period of the agent session (Swarm's default is 5 s; Skep's 2 s). */
  readonly heartbeatPeriodMs?: number;
  readonly tickMs?: number;
  readonly electionTick?: number;
  /** How long a write waits for Raft before failing with the no-leader error. */
  readonly proposalTimeoutMs?: number;
  /** Seals the node key at rest (the desktop app passes one built on Electron's safeStorage). */
  readonly secretSealer?: SecretSealer;
}

const LEAVE_METHOD = 'node.leave';
const RENEW_METHOD = 'ca.renewNodeCertificate';
const RAFT_VIEW_METHOD = 'raft.view';
/** Renew when this much of a certificate's lifetime has passed (Swarm renews at a random point in 50–80%). */
const RENEW_AT_FRACTION = 0.5;
const RENEW_CHECK_MS = 60 * 60 * 1000;
const REMOVED_FROM_RAFT_TIMEOUT_MS = 15_000;

interface Running {
  local: LocalSwarmState;
  credentials: NodeCredentials;
  server: RpcServer;
  pool: ConnectionPool;
  session: AgentSession;
  manager: Manager | undefined;
  /** Managers learned from heartbeat answers: nodeId → cluster address. */
  knownManagers: Map<string, string>;
  lastRenewalCheck: number;
  renewing: boolean;
}

function iso(): string {
  return new Date().toISOString();
}

function tlsCredentials(credentials: NodeCredentials): TlsCredentials {
  return { certPem: credentials.certPem, keyPem: credentials.keyPem, caPem: credentials.caCertPem };
}

export class SkepDaemon implements SkepService {
  private readonly local: LocalStore;
  private readonly logger: Logger;
  private readonly heartbeatPeriodMs: number;
  private readonly listeners = new Set<EventListener>();
  private running: Running | undefined;
  /** Serializes init/join/leave so two of them can't interleave. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  private description: NodeDescription | undefined;
  private lastStatus: SwarmStatus | undefined;
  private lastInfo: SystemInfo | undefined;
  private publishCount = 0;
  private statusTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DaemonOptions) {
    this.local = new LocalStore(options.dataDir, options.secretSealer);
    this.logger = options.logger ?? noopLogger;
    this.heartbeatPeriodMs = options.heartbeatPeriodMs ?? 2000;
  }

  /** Resumes the swarm this node was part of before a restart. */
  async start(): Promise<void> {
    const local = await this.local.load();
    if (local) await this.run(local, await this.local.loadCredentials(), undefined);
    this.statusTimer = setInterval(() => void this.publishStatus(), 1000);
    this.statusTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    await this.halt();
    this.listeners.clear();
  }

  // ---- events ----

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: SkepEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private async publishStatus(): Promise<void> {
    if (this.listeners.size === 0) return;
    // Facts change rarely (an engine installed or started); read them every few seconds.
    if (++this.publishCount % 5 === 1) {
      const info = await this.getSystemInfo().catch(() => undefined);
      if (info && !isDeepStrictEqual(info, this.lastInfo)) {
        this.lastInfo = info;
        this.emit({ type: 'system.info', payload: info });
      }
    }
    const status = await this.getSwarmStatus().catch(() => undefined);
    if (status && !isDeepStrictEqual(status, this.lastStatus)) {
      this.lastStatus = status;
      this.emit({ type: 'swarm.status', payload: status });
    }
  }

  // ---- facts ----

  async getSystemInfo(): Promise<SystemInfo> {
    const [host, engine] = await Promise.all([readHostFacts(), probeEngine(this.options.engine)]);
    return { ...host, dataDir: this.options.dataDir, engine, skepVersion: SKEP_VERSION, nodeVersion: process.versions.node };
  }

  private async nodeDescription(): Promise<NodeDescription> {
    if (!this.description) {
      const info = await this.getSystemInfo();
      this.description = {
        hostname: info.hostname,
        platform: { os: info.os.platform, architecture: info.architecture },
        resources: { cpus: info.cpuCount, memoryBytes: info.memoryBytes },
        engineVersion: info.engine.available ? info.engine.version : '',
      };
      // The engine may start or be upgraded later; re-read it now and then.
      setTimeout(() => (this.description = undefined), 30_000).unref();
    }
    return this.description;
  }

  // ---- status ----

  async getSwarmStatus(): Promise<SwarmStatus> {
    const running = this.running;
    if (!running) return { state: 'inactive' };
    const manager = running.manager;
    const nodes = manager ? Object.values(manager.store.state.nodes) : [];
    const raft = manager ? await this.bestRaftView(running, manager) : undefined;
    const managers = raft ? raft.members.filter((m) => m.role !== 'learner') : [];
    return {
      state: 'active',
      nodeId: running.local.nodeId,
      clusterId: running.local.clusterId,
      role: running.local.role,
      nodeAddr: running.local.advertiseAddr,
      managers: managers.length,
      reachableManagers: managers.filter((m) => m.reachable).length,
      nodes: nodes.length,
      readyNodes: nodes.filter((n) => n.status.state === 'ready').length,
      leaderId: raft?.leaderId ?? null,
      ...(raft ? { raft } : {}),
    };
  }

  /**
   * Only the leader knows each member's match index, lag and last contact; a follower asks it
   * (briefly) so every manager's window draws the same ring, and falls back to its own view.
   */
  private async bestRaftView(running: Running, manager: Manager): Promise<RaftView> {
    const local = manager.raftView();
    const leaderId = local.leaderId;
    if (leaderId === null || leaderId === running.local.nodeId) return local;
    const address = manager.addressOf(leaderId);
    if (!address) return local;
    try {
      const fromLeader = await running.pool.request<RaftView>({ address, nodeId: leaderId }, RAFT_VIEW_METHOD, {}, { timeoutMs: 500 });
      return fromLeader.leaderId === leaderId ? fromLeader : local;
    } catch {
      return local;
    }
  }

  // ---- swarm lifecycle ----

  swarmInit(request: InitRequest): Promise<InitResult> {
    return this.serialized(() => (request.forceNewCluster ? this.forceNewCluster(request) : this.initFresh(request)));
  }

  private async initFresh(request: InitRequest): Promise<InitResult> {
    if (this.running) throw skepError('SWARM_EXISTS');
    const listen = parseListenAddr(request.listenAddr);
    const advertiseAddr = chooseAdvertiseAddr(request.advertiseAddr, listen);
    const ca = await createRootCA();
    const nodeId = newNodeId();
    const key = await createNodeKeyAndCsr();
    const certPem = await issueNodeCertificate(ca, key.csrPem, { nodeId, role: 'swarm-manager' });
    const credentials: NodeCredentials = { certPem, keyPem: key.keyPem, caCertPem: ca.certPem };
    const tokens = new JoinTokens(ca.certPem);
    const local: LocalSwarmState = {
      version: 1,
      nodeId,
      clusterId: randomBase36Id(),
      role: 'manager',
      listenAddr: formatAddress(listen.host, listen.port),
      advertiseAddr,
      managerAddrs: [advertiseAddr],
    };
    await this.local.wipe();
    await this.local.saveCredentials(credentials);
    try {
      await this.run(local, credentials, { voters: [nodeId], learners: [] });
      const manager = this.requireManager();
      await this.waitFor(() => manager.isLeader, 10_000, 'NO_LEADER');
      const now = iso();
      const description = await this.nodeDescription();
      await manager.propose({
        op: 'cluster.create',
        cluster: { id: local.clusterId, createdAt: now, ca: { certPem: ca.certPem, keyPem: ca.keyPem }, tokenSecrets: tokens.secrets() },
        node: {
          id: nodeId,
          createdAt: now,
          updatedAt: now,
          spec: { role: 'manager', availability: 'active', labels: {} },
          role: 'manager',
          description,
          status: { state: 'ready', addr: advertiseAddr.replace(/:\d+$/, ''), message: '' },
          clusterAddr: advertiseAddr,
          certNotAfter: readNodeCertificate(certPem).notAfter.toISOString(),
        },
      });
      await this.local.save(local);
      this.requireRunning().session.start();
      return { nodeId, workerToken: tokens.token('worker'), managerAddr: advertiseAddr };
    } catch (error) {
      await this.halt();
      await this.local.wipe();
      throw error;
    }
  }

  swarmJoin(request: JoinRequest): Promise<JoinResult> {
    return this.serialized(async () => {
      if (this.running) throw skepError('SWARM_EXISTS');
      const listen = parseListenAddr(request.listenAddr);
      const advertiseAddr = chooseAdvertiseAddr(request.advertiseAddr, listen);
      const remote = parseListenAddr(request.remoteAddr);
      const remoteAddr = formatAddress(remote.host, remote.port);
      const joined = await joinCluster({ address: remoteAddr, token: request.token, timeoutMs: 10_000, logger: this.logger });
      const role: NodeRole = joined.role === 'swarm-manager' ? 'manager' : 'worker';
      const credentials: NodeCredentials = { certPem: joined.certPem, keyPem: joined.keyPem, caCertPem: joined.caCertPem };
      const local: LocalSwarmState = {
        version: 1,
        nodeId: joined.nodeId,
        clusterId: '',
        role: 'worker',
        listenAddr: formatAddress(listen.host, listen.port),
        advertiseAddr,
        managerAddrs: [remoteAddr],
      };
      await this.local.wipe();
      await this.local.saveCredentials(credentials);
      await this.local.save(local);
      try {
        await this.run(local, credentials, undefined);
        const running = this.requireRunning();
        running.session.start();
        await withTimeout(running.session.accepted(), 15_000, 'the managers did not accept this node\'s heartbeat');
        return { nodeId: joined.nodeId, role };
      } catch (error) {
        await this.halt();
        await this.local.wipe();
        throw error;
      }
    });
  }

  swarmLeave(force: boolean): Promise<void> {
    return this.serialized(async () => {
      const running = this.running;
      if (!running) throw skepError('NOT_IN_SWARM');
      const manager = running.manager;
      if (manager) {
        const view = manager.raftView();
        const voters = view.members.filter((m) => m.role !== 'learner');
        const reachable = voters.filter((m) => m.reachable).length;
        const unreachable = voters.length - reachable;
        if (!force) {
          if (isLastManager(reachable, unreachable)) throw skepError('LEAVE_LAST_MANAGER');
          if (removalLosesQuorum(reachable, unreachable)) throw skepError('LEAVE_LOSES_QUORUM', reachable - 1, voters.length);
          // Docker refuses every manager's leave without --force, also in a healthy swarm.
          throw skepError('LEAVE_MANAGER');
        }
        if (voters.length > 1 && hasQuorum(reachable, voters.length)) {
          // Leave Raft properly: the leader demotes us (transferring leadership first if it is us).
          await manager.propose({ op: 'node.spec', id: running.local.nodeId, at: iso(), role: 'worker' }).catch(() => undefined);
          await this.waitFor(() => !this.isRaftMember(manager), REMOVED_FROM_RAFT_TIMEOUT_MS, 'NO_LEADER').catch(() => undefined);
        }
      }
      await this.announceLeave(running);
      await this.halt();
      await this.local.wipe();
    });
  }

  private isRaftMember(manager: Manager): boolean {
    const conf = manager.confState();
    return conf.voters.includes(manager.nodeId) || conf.learners.includes(manager.nodeId);
  }

  /** Tells the managers we left, so the node shows Down at once (best effort). */
  private async announceLeave(running: Running): Promise<void> {
    const addresses = [...running.knownManagers.values(), ...running.local.managerAddrs];
    for (const address of new Set(addresses)) {
      if (address === running.local.advertiseAddr) continue;
      try {
        await running.pool.request({ address }, LEAVE_METHOD, {}, { timeoutMs: 3000 });
        return;
      } catch {
        // Try the next manager; a node that can't reach any is marked Down by missed heartbeats.
      }
    }
  }

  /**
   * Recovery after quorum is lost for good: this manager becomes a one-manager swarm built from
   * its own applied state — nodes, labels, tokens and the CA are kept. Like etcd's and Swarm's
   * force-new-cluster, entries this manager had not yet applied are not carried over.
   */
  private async forceNewCluster(request: InitRequest): Promise<InitResult> {
    const running = this.running;
    if (!running) return this.initFresh(request);
    const manager = running.manager;
    if (!manager) throw skepError('NOT_A_MANAGER');
    const status = manager.raftNode.status();
    const image = manager.store.snapshot();
    const cluster = this.cluster(manager);
    const self = running.local.nodeId;
    running.manager = undefined;
    await manager.stop();
    await rewriteAsSingleVoter(this.local.raftDir, self, { index: status.applied, term: status.term, data: image });
    await this.startManager(running, undefined);
    const restarted = this.requireManager();
    await this.waitFor(() => restarted.isLeader, 10_000, 'NO_LEADER');
    await restarted.propose({ op: 'cluster.forceNew', survivor: self, at: iso() });
    const tokens = new JoinTokens(cluster.ca.certPem, cluster.tokenSecrets);
    this.logger.warn('swarm: started a new one-manager swarm from this node\'s state (--force-new-cluster)', { nodeId: self });
    return { nodeId: self, workerToken: tokens.token('worker'), managerAddr: running.local.advertiseAddr };
  }

  swarmJoinToken(role: NodeRole, rotate: boolean): Promise<JoinTokenResult> {
    return this.managerCall(async (manager, running) => {
      if (rotate) {
        const tokens = new JoinTokens(this.cluster(manager).ca.certPem, this.cluster(manager).tokenSecrets);
        tokens.rotate(role);
        await manager.propose({ op: 'tokens.rotate', role, secret: tokens.secrets()[role] });
      }
      const cluster = this.cluster(manager);
      return { role, token: formatJoinToken(caDigest(cluster.ca.certPem), cluster.tokenSecrets[role]), managerAddr: running.local.advertiseAddr };
    });
  }

  // ---- nodes ----

  nodeList(): Promise<SwarmNode[]> {
    return this.managerCall(async (manager) => {
      // As Docker's manager sends reads to the leader: without one, the read fails (NO_LEADER).
      await manager.readBarrier();
      return Object.values(manager.store.state.nodes)
        .map((node) => this.toSwarmNode(manager, node))
        .sort((a, b) => a.description.hostname.localeCompare(b.description.hostname) || a.id.localeCompare(b.id));
    });
  }

  nodeInspect(ref: string): Promise<SwarmNode> {
    return this.managerCall(async (manager) => {
      await manager.readBarrier();
      return this.toSwarmNode(manager, this.resolveNode(manager.store.state, ref));
    });
  }

  nodePromote(ref: string): Promise<void> {
    return this.managerCall(async (manager) => {
      const node = this.resolveNode(manager.store.state, ref);
      if (node.spec.role === 'manager') return;
      await manager.propose({ op: 'node.spec', id: node.id, at: iso(), role: 'manager' });
    });
  }

  nodeDemote(ref: string): Promise<void> {
    return this.managerCall(async (manager) => {
      const node = this.resolveNode(manager.store.state, ref);
      if (node.spec.role === 'worker') return;
      const view = manager.raftView();
      const voters = view.members.filter((m) => m.role !== 'learner');
      const managersWanted = Object.values(manager.store.state.nodes).filter((n) => n.spec.role === 'manager');
      if (managersWanted.length <= 1) throw skepError('DEMOTE_LAST_MANAGER');
      const reachableAfter = voters.filter((m) => m.reachable && m.nodeId !== node.id).length;
      if (voters.some((m) => m.nodeId === node.id) && !hasQuorum(reachableAfter, voters.length - 1)) {
        throw skepError('DEMOTE_LOSES_QUORUM');
      }
      await manager.propose({ op: 'node.spec', id: node.id, at: iso(), role: 'worker' });
    });
  }

  nodeRemove(ref: string, force: boolean): Promise<void> {
    return this.managerCall(async (manager, running) => {
      const node = this.resolveNode(manager.store.state, ref);
      const inRaft = this.isMemberId(manager, node.id);
      if (node.role === 'manager' || node.spec.role === 'manager' || inRaft) throw skepError('REMOVE_MANAGER', node.id);
      if (node.status.state !== 'down' && !force) throw skepError('REMOVE_NODE_NOT_DOWN', node.id);
      await manager.propose({ op: 'node.remove', id: node.id });
      running.server.disconnectNode(node.id);
    });
  }

  private isMemberId(manager: Manager, nodeId: string): boolean {
    const conf = manager.confState();
    return conf.voters.includes(nodeId) || conf.learners.includes(nodeId);
  }

  nodeUpdate(ref: string, update: NodeUpdate): Promise<void> {
    return this.managerCall(async (manager) => {
      const node = this.resolveNode(manager.store.state, ref);
      const labels: Record<string, string> = { ...node.spec.labels, ...(update.labelAdd ?? {}) };
      for (const key of update.labelRm ?? []) {
        if (!Object.hasOwn(labels, key)) throw skepError('LABEL_NOT_FOUND', key);
        delete labels[key];
      }
      const labelBytes = nodeLabelBytes(labels);
      if (labelBytes > MAX_NODE_LABEL_BYTES) throw skepError('LABELS_TOO_LARGE', node.id, labelBytes, MAX_NODE_LABEL_BYTES);
      await manager.propose({
        op: 'node.spec',
        id: node.id,
        at: iso(),
        ...(update.availability ? { availability: update.availability } : {}),
        ...(update.labelAdd ? { labelAdd: update.labelAdd } : {}),
        ...(update.labelRm ? { labelRm: update.labelRm } : {}),
      });
    });
  }

  private cluster(manager: Manager): NonNullable<SwarmState['cluster']> {
    const cluster = manager.store.state.cluster;
    if (!cluster) throw skepError('NO_LEADER');
    return cluster;
  }

  /** By ID, unique ID prefix, or hostname — as Docker resolves node names. */
  private resolveNode(state: SwarmState, ref: string): NodeRecord {
    if (ref === 'self' && this.running) ref = this.running.local.nodeId;
    const exact = state.nodes[ref];
    if (exact) return exact;
    const byHostname = Object.values(state.nodes).filter((n) => n.description.hostname === ref);
    if (byHostname.length === 1 && byHostname[0]) return byHostname[0];
    if (byHostname.length > 1) throw skepError('NODE_AMBIGUOUS', ref, byHostname.length);
    const byPrefix = Object.values(state.nodes).filter((n) => n.id.startsWith(ref));
    if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0];
    if (byPrefix.length > 1) throw skepError('NODE_AMBIGUOUS', ref, byPrefix.length);
    throw skepError('NODE_NOT_FOUND', ref);
  }

  private toSwarmNode(manager: Manager, node: NodeRecord): SwarmNode {
    const view = manager.raftView();
    const member = view.members.find((m) => m.nodeId === node.id && m.role !== 'learner');
    return {
      id: node.id,
      ...(node.version !== undefined ? { version: node.version } : {}),
      createdAt: node.createdAt,
      updatedAt: node.updatedAt,
      spec: node.spec,
      role: node.role,
      description: node.description,
      status: node.status,
      ...(member
        ? { managerStatus: { leader: view.leaderId === node.id, reachability: member.reachable ? 'reachable' : 'unreachable', addr: node.clusterAddr } }
        : {}),
      ...(node.certNotAfter ? { certificate: { notAfter: node.certNotAfter } } : {}),
    } as SwarmNode;
  }

  // ---- the node's runtime ----

  private async run(local: LocalSwarmState, credentials: NodeCredentials, bootstrap: { voters: string[]; learners: string[] } | undefined): Promise<void> {
    const knownManagers = new Map<string, string>();
    const pool = new ConnectionPool({
      credentials: tlsCredentials(credentials),
      logger: this.logger,
      requestTimeoutMs: 5000,
      backoff: { initialMs: 50, maxMs: 1000 },
    });
    const listen = parseListenAddr(local.listenAddr);
    const running: Running = {
      local,
      credentials,
      server: undefined as unknown as RpcServer,
      pool,
      session: undefined as unknown as AgentSession,
      manager: undefined,
      knownManagers,
      lastRenewalCheck: 0,
      renewing: false,
    };
    running.server = RpcServer.combined({
      credentials: tlsCredentials(credentials),
      isRevoked: (nodeId) => running.manager?.store.state.removed.includes(nodeId) ?? false,
      handlers: this.clusterHandlers(running),
      bootstrapHandlers: joinHandlers({
        ca: {
          get certPem() {
            return credentials.caCertPem;
          },
          get keyPem() {
            const cluster = running.manager?.store.state.cluster;
            if (!cluster) throw skepError('NOT_A_MANAGER');
            return cluster.ca.keyPem;
          },
        },
        tokens: {
          match: (secret) => {
            const cluster = running.manager?.store.state.cluster;
            if (!cluster) return null;
            return new JoinTokens(cluster.ca.certPem, cluster.tokenSecrets).match(secret);
          },
        },
        register: (node) => this.registerJoiningNode(running, node),
        logger: this.logger,
      }),
      hello: () => ({ caCertPem: credentials.caCertPem }),
      logger: this.logger,
    });
    try {
      await running.server.listen(listen.port, listen.host);
    } catch (error) {
      pool.close();
      throw listenError(formatAddress(listen.host, listen.port), error);
    }
    running.session = new AgentSession({
      pool,
      periodMs: this.heartbeatPeriodMs,
      managers: () => [...new Set([...knownManagers.values(), ...running.local.managerAddrs])],
      report: async () => this.heartbeatReport(running),
      onAnswer: (answer) => void this.onHeartbeatAnswer(running, answer),
      logger: this.logger,
    });
    this.running = running;
    if (local.role === 'manager') await this.startManager(running, bootstrap);
    if (!bootstrap) running.session.start();
  }

  private async startManager(running: Running, bootstrap: { voters: string[]; learners: string[] } | undefined): Promise<void> {
    running.manager = await Manager.start({
      nodeId: running.local.nodeId,
      raftDir: this.local.raftDir,
      pool: running.pool,
      ...(bootstrap ? { bootstrap } : {}),
      knownAddress: (id) => running.knownManagers.get(id),
      heartbeatPeriodMs: this.heartbeatPeriodMs,
      ...(this.options.tickMs !== undefined ? { tickMs: this.options.tickMs } : {}),
      ...(this.options.electionTick !== undefined ? { electionTick: this.options.electionTick } : {}),
      ...(this.options.proposalTimeoutMs !== undefined ? { proposalTimeoutMs: this.options.proposalTimeoutMs } : {}),
      logger: this.logger,
      onRemovedFromRaft: () => void this.serialized(() => this.becomeWorker(running)),
    });
  }

  /** Demoted (or left): stop being a Raft member, forget the log, keep running tasks as a worker. */
  private async becomeWorker(running: Running): Promise<void> {
    const manager = running.manager;
    if (!manager || this.running !== running) return;
    // Remember where the other managers are before the store goes away.
    for (const member of manager.raftView().members) {
      if (member.nodeId !== running.local.nodeId && member.addr) running.knownManagers.set(member.nodeId, member.addr);
    }
    running.manager = undefined;
    await manager.stop();
    await this.local.wipeRaft();
    running.local = { ...running.local, role: 'worker', managerAddrs: [...running.knownManagers.values()] };
    await this.local.save(running.local);
    this.logger.info('swarm: this node is now a worker');
  }

  private async becomeManager(running: Running): Promise<void> {
    if (running.manager || this.running !== running) return;
    await this.local.wipeRaft();
    running.local = { ...running.local, role: 'manager' };
    await this.local.save(running.local);
    await this.startManager(running, undefined);
    this.logger.info('swarm: this node is now a manager');
  }

  private async heartbeatReport(running: Running): Promise<HeartbeatReport> {
    return {
      description: await this.nodeDescription(),
      addr: running.local.advertiseAddr.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
      clusterAddr: running.local.advertiseAddr,
      certNotAfter: readNodeCertificate(running.credentials.certPem).notAfter.toISOString(),
    };
  }

  private async onHeartbeatAnswer(running: Running, answer: HeartbeatAnswer): Promise<void> {
    for (const { nodeId, addr } of answer.managers) running.knownManagers.set(nodeId, addr);
    if (answer.clusterId && running.local.clusterId !== answer.clusterId) {
      running.local = { ...running.local, clusterId: answer.clusterId };
      await this.local.save(running.local);
    }
    const addrs = answer.managers.map((m) => m.addr).filter((a) => a !== running.local.advertiseAddr);
    if (addrs.length > 0 && !isDeepStrictEqual([...running.local.managerAddrs].sort(), [...addrs].sort())) {
      running.local = { ...running.local, managerAddrs: addrs };
      await this.local.save(running.local);
    }
    await this.renewCertificateIfDue(running, answer).catch((error: unknown) =>
      this.logger.warn('swarm: certificate renewal failed; will retry', { error: error instanceof Error ? error.message : String(error) }),
    );
    if (answer.desiredRole === 'manager' && !running.manager) await this.serialized(() => this.becomeManager(running));
    // A manager the swarm no longer counts (demoted while away, or left behind by --force-new-cluster).
    const counted = answer.managers.some((m) => m.nodeId === running.local.nodeId);
    if (answer.desiredRole === 'worker' && running.manager && !counted && answer.leaderId !== running.local.nodeId) {
      await this.serialized(() => this.becomeWorker(running));
    }
  }

  /**
   * Renews this node's certificate before it expires, and when the role it states is no longer the
   * role the node has. The key never leaves the node: a new key and CSR each time.
   */
  private async renewCertificateIfDue(running: Running, answer: HeartbeatAnswer): Promise<void> {
    const now = Date.now();
    const info = readNodeCertificate(running.credentials.certPem);
    // The certificate states the role the swarm wants (spec.role), as the issuing side does.
    const wantedRole = answer.desiredRole === 'manager' ? 'swarm-manager' : 'swarm-worker';
    const roleChanged = info.role !== wantedRole && answer.leaderId !== null;
    const due = needsRenewal(running.credentials.certPem, new Date(now), RENEW_AT_FRACTION);
    if (!roleChanged && !due) return;
    if (running.renewing || (!roleChanged && now - running.lastRenewalCheck < RENEW_CHECK_MS)) return;
    running.lastRenewalCheck = now;
    running.renewing = true;
    try {
      await this.renewCertificate(running, answer);
    } finally {
      running.renewing = false;
    }
  }

  private async renewCertificate(running: Running, answer: HeartbeatAnswer): Promise<void> {
    const key = await createNodeKeyAndCsr();
    const managerAddr = answer.managers.find((m) => m.nodeId === answer.leaderId)?.addr ?? answer.managers[0]?.addr;
    if (!managerAddr) return;
    const { certPem } = await running.pool.request<{ certPem: string }>({ address: managerAddr }, RENEW_METHOD, { csrPem: key.csrPem }, { timeoutMs: 5000 });
    const renewed = readNodeCertificate(certPem);
    if (renewed.nodeId !== running.local.nodeId) throw new Error('the manager issued a certificate for another node');
    const credentials: NodeCredentials = { certPem, keyPem: key.keyPem, caCertPem: running.credentials.caCertPem };
    await this.local.saveCredentials(credentials);
    running.credentials = credentials;
    running.pool.setCredentials(tlsCredentials(credentials));
    running.server.setCredentials(tlsCredentials(credentials));
    this.logger.info('swarm: node certificate renewed', { role: renewed.role, notAfter: renewed.notAfter.toISOString() });
  }

  /** The join service's hook: record the node in the store before its certificate is handed out. */
  private async registerJoiningNode(running: Running, joining: RegisteredNode): Promise<void> {
    const manager = running.manager;
    if (!manager) throw skepError('NOT_A_MANAGER');
    const now = iso();
    const role: NodeRole = joining.role === 'swarm-manager' ? 'manager' : 'worker';
    await manager.propose({
      op: 'node.register',
      node: {
        id: joining.nodeId,
        createdAt: now,
        updatedAt: now,
        spec: { role, availability: 'active', labels: {} },
        role: 'worker',
        description: { hostname: '', platform: { os: '', architecture: '' }, resources: { cpus: 0, memoryBytes: 0 }, engineVersion: '' },
        status: { state: 'unknown', addr: joining.remoteAddress.replace(/:\d+$/, ''), message: 'joining' },
        clusterAddr: '',
        certNotAfter: readNodeCertificate(joining.certPem).notAfter.toISOString(),
      },
    });
  }

  private clusterHandlers(running: Running): Parameters<typeof RpcServer.combined>[0]['handlers'] {
    const peerId = (ctx: HandlerContext): string => {
      if (!ctx.peer) throw skepError('UNAUTHORIZED');
      return ctx.peer.nodeId;
    };
    return {
      onNotify: (method, body, ctx) => {
        if (method !== RAFT_METHOD || !running.manager || !ctx.peer) return;
        const message = body as Message;
        if (message.from !== ctx.peer.nodeId) return; // a node speaks only for itself
        running.manager.receive(message);
      },
      requests: {
        [HEARTBEAT_METHOD]: async (body, ctx) => this.answerHeartbeat(running, peerId(ctx), body as HeartbeatReport),
        'dispatcher.forward': async (body, ctx) => {
          peerId(ctx);
          const { nodeId, report } = body as { nodeId: string; report: HeartbeatReport };
          return this.answerHeartbeat(running, nodeId, report);
        },
        [RENEW_METHOD]: async (body, ctx) => {
          const nodeId = peerId(ctx);
          const manager = running.manager;
          if (!manager) throw skepError('NOT_A_MANAGER');
          const node = manager.store.state.nodes[nodeId];
          if (!node) throw skepError('NODE_NOT_FOUND', nodeId);
          const cluster = this.cluster(manager);
          const { csrPem } = body as { csrPem: string };
          // The certificate states the role the swarm wants for the node, whatever the old one said.
          const certPem = await issueNodeCertificate(cluster.ca, csrPem, { nodeId, role: node.spec.role === 'manager' ? 'swarm-manager' : 'swarm-worker' });
          return { certPem };
        },
        [RAFT_VIEW_METHOD]: async (_body, ctx) => {
          peerId(ctx);
          const manager = running.manager;
          if (!manager) throw skepError('NOT_A_MANAGER');
          return manager.raftView();
        },
        [LEAVE_METHOD]: async (_body, ctx) => {
          const nodeId = peerId(ctx);
          const manager = running.manager;
          if (!manager) throw skepError('NOT_A_MANAGER');
          manager.forgetHeartbeat(nodeId);
          await manager.propose({ op: 'node.status', id: nodeId, at: iso(), state: 'down', message: 'node left the swarm' });
          return {};
        },
      },
    };
  }

  private async answerHeartbeat(running: Running, nodeId: string, report: HeartbeatReport): Promise<HeartbeatAnswer> {
    const manager = running.manager;
    if (!manager) throw skepError('NOT_A_MANAGER');
    if (manager.isLeader) {
      await manager.heartbeat(nodeId, report);
    } else {
      const leaderId = manager.leaderId;
      const leaderAddr = leaderId ? manager.addressOf(leaderId) : undefined;
      if (!leaderId || !leaderAddr) throw skepError('NO_LEADER');
      await running.pool.request({ address: leaderAddr, nodeId: leaderId }, 'dispatcher.forward', { nodeId, report }, { timeoutMs: this.heartbeatPeriodMs });
    }
    const state = manager.store.state;
    const voters = manager.confState().voters;
    return {
      clusterId: state.cluster?.id ?? '',
      leaderId: manager.leaderId,
      managers: voters.map((id) => ({ nodeId: id, addr: manager.addressOf(id) ?? '' })).filter((m) => m.addr !== ''),
      desiredRole: state.nodes[nodeId]?.spec.role ?? 'worker',
    };
  }

  private requireRunning(): Running {
    if (!this.running) throw skepError('NOT_IN_SWARM');
    return this.running;
  }

  private requireManager(): Manager {
    const manager = this.requireRunning().manager;
    if (!manager) throw skepError('NOT_A_MANAGER');
    return manager;
  }

  private async managerCall<T>(action: (manager: Manager, running: Running) => Promise<T>): Promise<T> {
    // Docker's words for a manager command on a node outside any swarm.
    if (!this.running) throw skepError('NOT_A_MANAGER_NO_SWARM');
    const running = this.running;
    return action(this.requireManager(), running);
  }

  private serialized<T>(action: () => Promise<T>): Promise<T> {
    const next = this.lifecycle.then(action, action);
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  private async halt(): Promise<void> {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    running.session?.stop();
    await running.manager?.stop().catch((error: unknown) => this.logger.warn('swarm: raft stop failed', { error: String(error) }));
    running.pool.close();
    await running.server.close();
  }

  private async waitFor(condition: () => boolean, timeoutMs: number, code: 'NO_LEADER'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw skepError(code);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Why the cluster port could not be opened, in words a person can act on. */
function listenError(address: string, error: unknown): SkepError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const reason =
    code === 'EADDRINUSE'
      ? 'the address is already in use (another Skep node, or a Docker swarm manager on the same port?)'
      : code === 'EADDRNOTAVAIL'
        ? 'this machine has no such address'
        : code === 'EACCES'
          ? 'permission denied (ports below 1024 need root)'
          : error instanceof Error
            ? error.message
            : String(error);
  return skepError('LISTEN_FAILED', address, reason);
}

/** Replaces a Raft directory with one holding `state` as a snapshot whose only voter is `self`. */
async function rewriteAsSingleVoter(raftDir: string, self: string, state: { index: number; term: number; data: Uint8Array }): Promise<void> {
  const fresh = `${raftDir}.new`;
  const previous = `${raftDir}.before-force-new-cluster-${Date.now()}`;
  await rm(fresh, { recursive: true, force: true });
  const { storage } = await DiskStorage.open(fresh);
  try {
    const snapshot = { metadata: { index: state.index, term: state.term, confState: { voters: [self], learners: [] } }, data: state.data };
    await storage.save({ term: state.term, vote: null, commit: state.index }, [], snapshot);
  } finally {
    await storage.close();
  }
  // The old log is kept beside the new one until the new swarm runs, in case a person needs it.
  await rename(raftDir, previous);
  await rename(fresh, raftDir);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new SkepError('INTERNAL', `Timeout was reached before node joined: ${what}.`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
