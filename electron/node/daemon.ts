// One Skep node: what `skep daemon` runs and what the desktop app embeds. It implements the whole
// API (shared/api.ts) by composing the agent (every node) and, on managers, the manager
// (electron/swarm). This file owns the node's lifecycle — init, join, leave, force-new-cluster,
// becoming manager or worker, removal, failure and recovery — and nothing of the swarm's logic.
import { statfs } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import type { EventListener, SkepEvent, SkepService } from '../../shared/api.js';
import { skepError, SkepError } from '../../shared/errors.js';
import { withField } from '../../shared/addresses.js';
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
  SwarmFailure,
  SwarmNode,
  SwarmStatus,
  SwarmUpdate,
  SystemInfo,
  UnlockKeyResult,
  UnlockRequest,
} from '../../shared/types.js';
import type { ServiceSpecRequest } from '../../shared/service-schema.js';
import type { Service, ServiceListEntry, ServiceLogLine, Task, TaskFilter } from '../../shared/services.js';
import { SKEP_VERSION } from '../../shared/version.js';
import { probeEngine, type EngineOptions } from '../agent/engine.js';
import { readHostFacts } from '../agent/host-facts.js';
import { AgentSession, type KnownManager } from '../agent/session.js';
import { ConnectionPool, formatAddress, noopLogger, RpcServer, type Logger, type TlsCredentials } from '../net/index.js';
import { call, type HeartbeatAnswer, type HeartbeatReport, type ProtocolServer } from '../protocol/index.js';
import type { ProvisionService } from '../provision/service.js';
import {
  createNodeKeyAndCsr,
  createRootCA,
  formatUnlockKey,
  newUnlockKey,
  parseUnlockKey,
  issueNodeCertificate,
  JoinTokens,
  newNodeId,
  randomBase36Id,
  readNodeCertificate,
} from '../swarm/ca/index.js';
import { joinCluster, joinHandlers, type RegisteredNode } from '../swarm/ca/join.js';
import type { Manager } from '../swarm/manager.js';
import { checkCanListen, parseListenAddr, resolveAddresses, resolveRemoteAddr } from './addresses.js';
import { CertificateRenewer } from './certificates.js';
import { DockerExecutor } from '../agent/exec/docker/executor.js';
import { AgentTasks } from './agent-tasks.js';
import { followLocalTaskLogs, followServiceLogs, localTaskLogs, RemoteLogStreams, serviceLogs } from './service-logs.js';
import { clusterProtocol, disconnectRemoved, notifyAssignmentsChanged } from './cluster-server.js';
import { listenError, rewriteAsSingleVoter, withTimeout } from './lifecycle.js';
import { LocalStore, type LocalSwarmState, type NodeCredentials, type SecretSealer } from './local-state.js';
import { AtRest } from './at-rest.js';

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

const REMOVED_FROM_RAFT_TIMEOUT_MS = 15_000;
/** Join failures that are about the manager's address (the window shows them at that field). */
const JOIN_ADDRESS_ERRORS: ReadonlySet<string> = new Set(['JOIN_CONNECTION_REFUSED', 'JOIN_NOTHING_ANSWERS', 'JOIN_NOT_A_MANAGER', 'PEER_UNREACHABLE']);
/** How often a manager whose storage failed (full disk) tries to start again. */
const RECOVERY_RETRY_MS = 2000;
/** Free space a full disk must have again before the manager starts on it. */
const RECOVERY_FREE_BYTES = 4 * 1024 * 1024;
/** Status events: at most this often on changes, and at least this often for contact times. */
const STATUS_COALESCE_MS = 50;
const STATUS_REFRESH_MS = 2000;

/**
 * What a worker never uses, loaded on first use: the manager (Raft, the store, the control API,
 * the orchestrator…) and adding machines over SSH (ssh2). A worker's memory stays smaller by what
 * these cost (electron/node/README.md, "Memory"). The bundle stays one file: esbuild runs a module
 * reached only through import() when it is first imported.
 */
const ON_DEMAND = {
  manager: () => import('../swarm/manager.js'),
  provision: () => import('../provision/service.js'),
} as const;
type OnDemand = typeof ON_DEMAND;

interface Running {
  local: LocalSwarmState;
  credentials: NodeCredentials;
  server: RpcServer;
  pool: ConnectionPool;
  session: AgentSession;
  /** This node's tasks on its Docker Engine (services). */
  tasks: AgentTasks;
  protocol: ProtocolServer;
  renewer: CertificateRenewer;
  manager: Manager | undefined;
  /** Managers learned from heartbeat answers: nodeId → cluster address. */
  knownManagers: Map<string, string>;
  /** Set while this manager's Raft node has stopped (storage failed); cleared when it runs again. */
  failure: SwarmFailure | undefined;
  recoveryTimer: NodeJS.Timeout | undefined;
}

function iso(): string {
  return new Date().toISOString();
}

function tlsCredentials(credentials: NodeCredentials): TlsCredentials {
  return { certPem: credentials.certPem, keyPem: credentials.keyPem, caPem: credentials.caCertPem };
}

function hostOnly(addr: string): string {
  return addr.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
}

export class SkepDaemon implements SkepService {
  private readonly local: LocalStore;
  private readonly logger: Logger;
  private readonly heartbeatPeriodMs: number;
  private readonly listeners = new Set<EventListener>();
  /** The log follows this node, as a manager, has open on other nodes. */
  private readonly logStreams = new RemoteLogStreams();
  private running: Running | undefined;
  /** This node was removed from the swarm by a manager: it stays out until `swarm leave`. */
  private removed: LocalSwarmState | undefined;
  /** A manager of an autolocked swarm, restarted: it serves nothing until `swarm unlock`. */
  private locked: LocalSwarmState | undefined;
  /** This manager's data key and the swarm's unlock key (encryption at rest, autolock). */
  private readonly atRest: AtRest;
  /** Serializes init/join/leave so two of them can't interleave. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  private description: NodeDescription | undefined;
  private descriptionRefresh: NodeJS.Timeout | undefined;
  private lastStatus: SwarmStatus | undefined;
  private lastInfo: SystemInfo | undefined;
  private publishCount = 0;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusSoon: NodeJS.Timeout | undefined;
  private readonly loaded = new Set<keyof OnDemand>();
  // Adding machines over SSH (electron/provision): it uses this node only through the public API.
  private provisioning: Promise<ProvisionService> | undefined;
  readonly machineHostKey: SkepService['machineHostKey'] = async (target) => (await this.provision()).machineHostKey(target);
  readonly machineCheck: SkepService['machineCheck'] = async (request) => (await this.provision()).machineCheck(request);
  readonly machineAdd: SkepService['machineAdd'] = async (request) => (await this.provision()).machineAdd(request);
  readonly machineList: SkepService['machineList'] = async () => (await this.provision()).machineList();
  readonly machineRemove: SkepService['machineRemove'] = async (request) => (await this.provision()).machineRemove(request);

  constructor(private readonly options: DaemonOptions) {
    this.local = new LocalStore(options.dataDir, options.secretSealer);
    this.atRest = new AtRest(this.local);
    this.logger = options.logger ?? noopLogger;
    this.heartbeatPeriodMs = options.heartbeatPeriodMs ?? 2000;
  }

  /** Loads a part of ON_DEMAND (once; later calls get the same module). */
  private async load<K extends keyof OnDemand>(part: K): Promise<Awaited<ReturnType<OnDemand[K]>>> {
    const module = (await ON_DEMAND[part]()) as Awaited<ReturnType<OnDemand[K]>>;
    if (!this.loaded.has(part)) {
      this.loaded.add(part);
      this.logger.debug('daemon: loaded on first use', { part });
    }
    return module;
  }

  private provision(): Promise<ProvisionService> {
    this.provisioning ??= this.load('provision').then(
      ({ ProvisionService }) => new ProvisionService({ dataDir: this.options.dataDir, swarm: this, emit: (event) => this.emit(event), logger: this.logger }),
    );
    return this.provisioning;
  }

  /** Resumes the swarm this node was part of before a restart. */
  async start(): Promise<void> {
    const local = await this.local.load();
    if (local?.removed) this.removed = local;
    else if (local && local.role === 'manager' && (await this.atRest.load()) === 'locked') {
      this.locked = local;
      this.logger.warn('swarm: this manager is locked (autolock); "skep swarm unlock" starts it');
    } else if (local) await this.run(local, await this.local.loadCredentials(), undefined);
    this.statusTimer = setInterval(() => void this.publishStatus(), STATUS_REFRESH_MS);
    this.statusTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.statusTimer);
    clearInterval(this.descriptionRefresh);
    clearTimeout(this.statusSoon);
    await this.halt();
    this.listeners.clear();
  }

  // ---- events ----

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    this.statusChanged();
    return () => this.listeners.delete(listener);
  }

  private emit(event: SkepEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** The store or the Raft group changed: publish soon, coalescing bursts of writes. */
  private statusChanged(): void {
    if (this.statusSoon || this.listeners.size === 0) return;
    this.statusSoon = setTimeout(() => {
      this.statusSoon = undefined;
      void this.publishStatus();
    }, STATUS_COALESCE_MS);
    this.statusSoon.unref();
  }

  private async publishStatus(): Promise<void> {
    if (this.listeners.size === 0) return;
    // Facts change rarely (an engine installed or started); read them every few refreshes.
    if (++this.publishCount % 3 === 1) {
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
      this.description = await this.readNodeDescription();
      // The engine may start or be upgraded later: re-read it now and then, in the background, so a
      // heartbeat never waits on an engine busy starting containers (late heartbeats mark a node Down).
      this.descriptionRefresh ??= setInterval(() => {
        void this.readNodeDescription().then((description) => (this.description = description), () => undefined);
      }, 30_000);
      this.descriptionRefresh.unref();
    }
    return this.description;
  }

  private async readNodeDescription(): Promise<NodeDescription> {
    const info = await this.getSystemInfo();
    return {
      hostname: info.hostname.slice(0, 253),
      platform: { os: info.os.platform, architecture: info.architecture },
      resources: { cpus: info.cpuCount, memoryBytes: info.memoryBytes },
      engineVersion: info.engine.available ? info.engine.version.slice(0, 64) : '',
      ...(info.engine.available && info.engine.labels && Object.keys(info.engine.labels).length > 0 ? { engineLabels: info.engine.labels } : {}),
    };
  }

  // ---- status ----

  async getSwarmStatus(): Promise<SwarmStatus> {
    const locked = this.locked;
    if (locked) return { state: 'locked', nodeId: locked.nodeId, clusterId: locked.clusterId, role: locked.role, nodeAddr: locked.advertiseAddr };
    const removed = this.removed;
    if (removed) {
      const error = skepError('NODE_REMOVED');
      return {
        state: 'active',
        nodeId: removed.nodeId,
        clusterId: removed.clusterId,
        role: removed.role,
        nodeAddr: removed.advertiseAddr,
        managers: 0,
        reachableManagers: 0,
        nodes: 0,
        readyNodes: 0,
        leaderId: null,
        failure: { code: error.code, message: error.message, recovering: false },
      };
    }
    const running = this.running;
    if (!running) return { state: 'inactive' };
    const manager = running.manager;
    const nodes = manager ? Object.values(manager.raft.store.state.nodes) : [];
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
      ...(running.failure ? { failure: running.failure } : {}),
    };
  }

  /**
   * Only the leader knows each member's match index, lag and last contact; a follower asks it
   * (briefly) so every manager's window draws the same ring, and falls back to its own view.
   */
  private async bestRaftView(running: Running, manager: Manager): Promise<RaftView> {
    const local = manager.raft.raftView();
    const leaderId = local.leaderId;
    if (leaderId === null || leaderId === running.local.nodeId) return local;
    const address = manager.raft.addressOf(leaderId);
    if (!address) return local;
    try {
      const fromLeader = await call(running.pool, { address, nodeId: leaderId, role: 'swarm-manager' }, 'raft.view', {}, { timeoutMs: 500 });
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
    if (this.running || this.removed || this.locked) throw skepError('SWARM_EXISTS');
    const { listen, advertiseAddr } = resolveAddresses(request);
    await checkCanListen(listen);
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
    const unlockKey = request.autolock ? newUnlockKey() : undefined;
    await this.local.wipe();
    this.atRest.reset(unlockKey, credentials.keyPem);
    await this.atRest.saveCredentials(credentials);
    try {
      await this.run(local, credentials, { voters: [nodeId], learners: [] });
      const manager = this.requireManager();
      await this.waitFor(() => manager.isLeader, 10_000, 'NO_LEADER');
      const now = iso();
      const description = await this.nodeDescription();
      await manager.raft.propose({
        op: 'cluster.create',
        cluster: {
          id: local.clusterId,
          createdAt: now,
          ca: { certPem: ca.certPem, keyPem: ca.keyPem },
          tokenSecrets: tokens.secrets(),
          ...(unlockKey ? { unlockKey: unlockKey.toString('base64') } : {}),
        },
        node: {
          id: nodeId,
          createdAt: now,
          updatedAt: now,
          spec: { role: 'manager', availability: 'active', labels: {} },
          role: 'manager',
          description,
          status: { state: 'ready', addr: hostOnly(advertiseAddr), message: '' },
          clusterAddr: advertiseAddr,
          certNotAfter: readNodeCertificate(certPem).notAfter.toISOString(),
        },
      });
      await this.local.save(local);
      this.requireRunning().session.start();
      return { nodeId, workerToken: tokens.token('worker'), managerAddr: advertiseAddr, ...(unlockKey ? { unlockKey: formatUnlockKey(unlockKey) } : {}) };
    } catch (error) {
      await this.halt();
      await this.local.wipe();
      this.atRest.clear();
      throw error;
    }
  }

  swarmJoin(request: JoinRequest): Promise<JoinResult> {
    return this.serialized(async () => {
      if (this.running || this.removed || this.locked) throw skepError('SWARM_EXISTS');
      // Everything this machine can check is checked before a manager is asked for anything: a
      // manager registers the node when it hands out the certificate.
      const { listen, advertiseAddr } = resolveAddresses(request);
      const remoteAddr = resolveRemoteAddr(request.remoteAddr);
      await checkCanListen(listen);
      const joined = await joinCluster({ address: remoteAddr, token: request.token, timeoutMs: 10_000, logger: this.logger }).catch((error: unknown) => {
        throw error instanceof SkepError && JOIN_ADDRESS_ERRORS.has(error.code) ? withField(error, 'remoteAddr') : error;
      });
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
      this.atRest.reset(undefined, credentials.keyPem);
      await this.atRest.saveCredentials(credentials);
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
      if (this.locked) {
        if (!force) throw skepError('SWARM_LOCKED_LEAVE');
        this.locked = undefined;
        this.atRest.clear();
        await this.local.wipe();
        this.statusChanged();
        return;
      }
      if (this.removed) {
        // Removed by a manager: nothing in the swarm depends on this node any more.
        this.removed = undefined;
        await this.local.wipe();
        this.statusChanged();
        return;
      }
      const running = this.running;
      if (!running) throw skepError('NOT_IN_SWARM');
      const manager = running.manager;
      if (manager) {
        const voters = manager.raft.raftView().members.filter((m) => m.role !== 'learner');
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
          await manager.raft.propose({ op: 'node.spec', id: running.local.nodeId, at: iso(), role: 'worker' }).catch(() => undefined);
          await this.waitFor(() => !manager.raft.isMember(manager.nodeId), REMOVED_FROM_RAFT_TIMEOUT_MS, 'NO_LEADER').catch(() => undefined);
        }
      }
      await this.announceLeave(running);
      // As Docker's leave: this node's task containers go with it (an empty complete set removes them).
      await withTimeout(running.tasks.worker.assign([]), 30_000, 'removing this node\'s task containers took too long').catch((error: unknown) =>
        this.logger.warn('swarm: leaving without removing every task container', { error: error instanceof Error ? error.message : String(error) }));
      await this.halt();
      await this.local.wipe();
      this.atRest.clear();
    });
  }

  /** Tells the managers we left, so the node shows Down at once (best effort). */
  private async announceLeave(running: Running): Promise<void> {
    for (const manager of this.knownManagerList(running)) {
      if (manager.addr === running.local.advertiseAddr) continue;
      try {
        await call(running.pool, { address: manager.addr, role: 'swarm-manager', ...(manager.nodeId ? { nodeId: manager.nodeId } : {}) }, 'dispatcher.leave', {}, { timeoutMs: 3000 });
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
    if (this.locked) throw skepError('SWARM_LOCKED');
    const running = this.running;
    if (!running) return this.initFresh(request);
    const manager = running.manager;
    if (!manager) throw running.failure ? this.failureError(running.failure) : skepError('NOT_A_MANAGER');
    const status = manager.raft.raftNode.status();
    const image = manager.raft.store.snapshot();
    const cluster = manager.cluster.cluster();
    const self = running.local.nodeId;
    running.manager = undefined;
    await manager.stop();
    await rewriteAsSingleVoter(this.local.raftDir, self, { index: status.applied, term: status.term, data: image }, await this.atRest.managerCipher());
    await this.startManager(running, undefined);
    const restarted = this.requireManager();
    await this.waitFor(() => restarted.isLeader, 10_000, 'NO_LEADER');
    await restarted.raft.propose({ op: 'cluster.forceNew', survivor: self, at: iso() });
    const tokens = new JoinTokens(cluster.ca.certPem, cluster.tokenSecrets);
    this.logger.warn('swarm: started a new one-manager swarm from this node\'s state (--force-new-cluster)', { nodeId: self });
    return { nodeId: self, workerToken: tokens.token('worker'), managerAddr: running.local.advertiseAddr };
  }

  /** `swarm update --autolock=true|false`: a new unlock key travels in the command (each manager follows it). */
  swarmUpdate(update: SwarmUpdate): Promise<void> {
    return this.managerCall(async (manager) => {
      if (update.autolock === undefined) return;
      const current = manager.cluster.cluster().unlockKey;
      if (update.autolock === (current !== undefined)) return;
      await manager.raft.propose({ op: 'cluster.autolock', unlockKey: update.autolock ? newUnlockKey().toString('base64') : null });
    });
  }

  swarmUnlockKey(rotate: boolean): Promise<UnlockKeyResult> {
    return this.managerCall(async (manager) => {
      if (rotate) {
        if (manager.cluster.cluster().unlockKey === undefined) throw skepError('UNLOCK_ROTATE_NO_AUTOLOCK');
        await manager.raft.propose({ op: 'cluster.autolock', unlockKey: newUnlockKey().toString('base64') });
      }
      const key = manager.cluster.cluster().unlockKey;
      return { key: key === undefined ? null : formatUnlockKey(Buffer.from(key, 'base64')) };
    });
  }

  /** `swarm unlock`: the key unwraps this manager's data key and TLS key, and the node starts. */
  swarmUnlock({ key }: UnlockRequest): Promise<void> {
    return this.serialized(async () => {
      const local = this.locked;
      if (!local) throw skepError(this.running || this.removed ? 'SWARM_NOT_LOCKED' : 'NOT_IN_SWARM');
      const unlockKey = parseUnlockKey(key);
      if (!unlockKey) throw skepError('UNLOCK_INVALID_KEY');
      const keyPem = await this.atRest.unlock(unlockKey);
      const credentials = await this.local.loadCredentials(keyPem);
      this.locked = undefined;
      try {
        await this.run(local, credentials, undefined);
      } catch (error) {
        await this.halt();
        this.atRest.clear();
        this.locked = local;
        throw error;
      }
      this.logger.info('swarm: unlocked');
      this.statusChanged();
    });
  }

  swarmJoinToken(role: NodeRole, rotate: boolean): Promise<JoinTokenResult> {
    return this.managerCall(async (manager, running) => ({ role, token: await manager.cluster.joinToken(role, rotate), managerAddr: running.local.advertiseAddr }));
  }

  // ---- nodes ----

  nodeList(): Promise<SwarmNode[]> {
    return this.managerCall((manager) => manager.nodes.list());
  }

  nodeInspect(ref: string): Promise<SwarmNode> {
    return this.managerCall((manager) => manager.nodes.inspect(ref));
  }

  nodePromote(ref: string): Promise<void> {
    return this.managerCall((manager) => manager.nodes.promote(ref));
  }

  nodeDemote(ref: string): Promise<void> {
    return this.managerCall((manager) => manager.nodes.demote(ref));
  }

  nodeRemove(ref: string, force: boolean): Promise<void> {
    // Every manager cuts the node's connections as the removal applies (onNodeRemoved).
    return this.managerCall(async (manager) => void (await manager.nodes.remove(ref, force)));
  }

  nodeUpdate(ref: string, update: NodeUpdate): Promise<void> {
    return this.managerCall((manager) => manager.nodes.update(ref, update));
  }

  // ---- services and tasks ----

  serviceCreate(spec: ServiceSpecRequest): Promise<{ id: string }> {
    return this.managerCall((manager) => manager.services.create(spec));
  }

  serviceList(): Promise<ServiceListEntry[]> {
    return this.managerCall((manager) => manager.services.list());
  }

  serviceInspect(ref: string): Promise<Service> {
    return this.managerCall((manager) => manager.services.inspect(ref));
  }

  serviceUpdate(ref: string, spec: ServiceSpecRequest, options: { rollback?: boolean }): Promise<void> {
    return this.managerCall((manager) => manager.services.update(ref, spec, options));
  }

  serviceScale(ref: string, replicas: number): Promise<void> {
    return this.managerCall((manager) => manager.services.scale(ref, replicas));
  }

  serviceRemove(ref: string): Promise<string> {
    return this.managerCall((manager) => manager.services.remove(ref));
  }

  taskList(filter: TaskFilter): Promise<Task[]> {
    return this.managerCall((manager) => manager.services.tasks(filter));
  }

  serviceLogs(ref: string, options: { tail?: number; sinceSeconds?: number }): Promise<ServiceLogLine[]> {
    return this.managerCall((manager, running) => serviceLogs(manager, { nodeId: running.local.nodeId, worker: running.tasks.worker, pool: running.pool }, ref, options));
  }

  /** `service logs --follow` (a streaming call: the control socket carries it). */
  followServiceLogs(ref: string, options: { tail?: number; sinceSeconds?: number }, onLines: (lines: ServiceLogLine[]) => void, signal: AbortSignal): Promise<void> {
    return this.managerCall((manager, running) =>
      followServiceLogs(manager, { nodeId: running.local.nodeId, worker: running.tasks.worker, pool: running.pool, streams: this.logStreams }, ref, options, (lines) => onLines([...lines]), signal));
  }

  // ---- the node's runtime ----

  private async run(local: LocalSwarmState, credentials: NodeCredentials, bootstrap: { voters: string[]; learners: string[] } | undefined): Promise<void> {
    const knownManagers = new Map<string, string>((local.managers ?? []).map((m) => [m.nodeId, m.addr]));
    const running = { local, credentials, manager: undefined, knownManagers, failure: undefined, recoveryTimer: undefined } as unknown as Running;
    const protocol = clusterProtocol({
      manager: () => running.manager,
      isKnownManager: (id) => running.knownManagers.has(id),
      answerHeartbeat: (nodeId, report) => this.answerHeartbeat(running, nodeId, report),
      onRemoved: () => this.background('removal', this.serialized(() => this.onRemoved(running))),
      onAssignmentsChanged: () => void running.tasks.refresh(),
      taskLogs: (taskId, options) => localTaskLogs(running.tasks.worker, taskId, options),
      followTaskLogs: (taskId, options, onLines, signal) => followLocalTaskLogs(running.tasks.worker, taskId, options, onLines, signal),
      onTaskLogLines: (nodeId, body) => this.logStreams.deliver(nodeId, body),
      logger: this.logger,
    });
    running.protocol = protocol;
    const pool = new ConnectionPool({
      credentials: tlsCredentials(credentials),
      handlers: protocol.handlers,
      // A removed node keeps a valid certificate: never dial it either.
      isRevoked: (id) => running.manager?.raft.store.state.removed.includes(id) ?? false,
      logger: this.logger,
      requestTimeoutMs: 5000,
      backoff: { initialMs: 50, maxMs: 1000 },
    });
    running.pool = pool;
    const listen = parseListenAddr(local.listenAddr);
    running.server = RpcServer.combined({
      credentials: tlsCredentials(credentials),
      handlers: protocol.handlers,
      bootstrapHandlers: joinHandlers({
        ca: {
          get certPem() {
            return running.credentials.caCertPem;
          },
          get keyPem() {
            const manager = running.manager;
            if (!manager) throw skepError('NOT_A_MANAGER');
            return manager.cluster.cluster().ca.keyPem;
          },
        },
        tokens: { match: (secret) => running.manager?.cluster.matchJoinSecret(secret) ?? null },
        register: (node) => this.registerJoiningNode(running, node),
        logger: this.logger,
      }),
      hello: () => ({ caCertPem: running.credentials.caCertPem }),
      logger: this.logger,
    });
    try {
      await running.server.listen(listen.port, listen.host);
    } catch (error) {
      pool.close();
      throw listenError(formatAddress(listen.host, listen.port), error);
    }
    running.renewer = new CertificateRenewer({
      nodeId: local.nodeId,
      pool,
      credentials: () => running.credentials,
      install: (renewed) => this.installCredentials(running, renewed),
    });
    running.session = new AgentSession({
      pool,
      periodMs: this.heartbeatPeriodMs,
      managers: () => this.knownManagerList(running),
      report: async () => this.heartbeatReport(running),
      onAnswer: (answer, from) => {
        running.tasks.heard(from);
        this.background('heartbeat answer', this.onHeartbeatAnswer(running, answer));
      },
      onRemoved: () => this.background('removal', this.serialized(() => this.onRemoved(running))),
      logger: this.logger,
    });
    running.tasks = new AgentTasks({
      executor: new DockerExecutor({ nodeId: local.nodeId, ...(this.options.engine?.host ? { host: this.options.engine.host } : {}) }),
      pool,
      logger: this.logger,
      timeoutMs: Math.max(this.heartbeatPeriodMs, 2000),
    });
    this.running = running;
    if (local.role === 'manager') await this.startManager(running, bootstrap);
    if (!bootstrap) running.session.start();
  }

  /** Managers by ID where an answer named them; the join address (no ID yet) after them. */
  private knownManagerList(running: Running): KnownManager[] {
    const list: KnownManager[] = [...running.knownManagers].filter(([id]) => id !== running.local.nodeId).map(([nodeId, addr]) => ({ nodeId, addr }));
    for (const addr of running.local.managerAddrs) {
      if (addr !== running.local.advertiseAddr && !list.some((m) => m.addr === addr)) list.push({ addr });
    }
    // A manager heartbeats to itself as well (its own dispatcher may be the leader's).
    if (running.manager) list.push({ nodeId: running.local.nodeId, addr: running.local.advertiseAddr });
    return list;
  }

  private async startManager(running: Running, bootstrap: { voters: string[]; learners: string[] } | undefined): Promise<void> {
    // A fatal error is tied to the manager that raised it, so a late one from a manager already
    // replaced (after recovery) cannot stop its successor.
    const self: { manager?: Manager; failedWhileStarting?: Error } = {};
    const onFatal = (error: Error): void => {
      if (self.manager) this.background('manager failure', this.onManagerFailed(running, self.manager, error));
      else self.failedWhileStarting ??= error;
    };
    const { Manager: ManagerModule } = await this.load('manager');
    const cipher = await this.atRest.managerCipher();
    const started = await ManagerModule.start({
      cipher,
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
      onRemovedFromRaft: () => this.background('becoming a worker', this.serialized(() => this.becomeWorker(running))),
      onNodeRemoved: (id) => disconnectRemoved(running.server, id),
      onFatal,
      onChange: () => this.statusChanged(),
      onAssignmentsChanged: (nodeIds) => notifyAssignmentsChanged(running.server, nodeIds),
    });
    self.manager = started;
    running.manager = started;
    if (self.failedWhileStarting) {
      this.background('manager failure', this.onManagerFailed(running, started, self.failedWhileStarting));
      return;
    }
    // Anything still under a previous data key was resealed as the storage opened.
    await this.atRest.settle();
    this.followUnlockKey(running, started);
  }

  /**
   * Autolock follows the store: when the swarm's unlock key changes (on, rotated, off), this
   * manager rewraps its keys — coalesced, so replaying old entries at start rewraps at most once.
   */
  private followUnlockKey(running: Running, manager: Manager): void {
    let timer: NodeJS.Timeout | undefined;
    let chain: Promise<unknown> = Promise.resolve();
    const check = (): void => {
      timer = undefined;
      if (running.manager !== manager || this.running !== running) return;
      // Not while a restart replays the log: an older key would be followed for a moment.
      const raft = manager.raft.raftNode.status();
      if (raft.applied < raft.commit) {
        timer = setTimeout(check, 50);
        return;
      }
      const cluster = manager.raft.store.state.cluster;
      if (!cluster) return;
      const desired = cluster.unlockKey === undefined ? undefined : Buffer.from(cluster.unlockKey, 'base64');
      chain = chain.then(async () => {
        if (running.manager !== manager) return;
        const outcome = await this.atRest.follow(desired, running.credentials, () => manager.raft.raftNode.resealStorage());
        if (outcome !== 'unchanged') this.logger.info(`swarm: autolock: this manager's keys are ${outcome}`);
      }).catch((error: unknown) => this.logger.error('swarm: autolock: rewrapping this manager\'s keys failed', { error: error instanceof Error ? error.message : String(error) }));
    };
    manager.raft.store.watch(() => {
      if (timer === undefined) timer = setTimeout(check, 50);
    });
    timer = setTimeout(check, 50);
  }

  /**
   * Raft stopped itself: storage failed (a full disk) or state broke. The daemon stays up and
   * says so — `swarm status`, `node ls`, the window and the tray — and where the cause can go
   * away by itself (space freed), it starts the manager again from what is on disk.
   */
  private async onManagerFailed(running: Running, failed: Manager, error: Error): Promise<void> {
    if (running.manager !== failed) return;
    // The failure is recorded before anything is awaited: a heartbeat answer arriving while the
    // manager stops must not find "no manager, no failure" and start one over a wiped log.
    const failure = describeFailure(error, this.local.raftDir);
    running.manager = undefined;
    running.failure = failure;
    this.logger.error('swarm: the manager stopped', { error: error.message, recovering: failure.recovering });
    this.statusChanged();
    await failed.stop().catch(() => undefined);
    if (failure.recovering) this.scheduleRecovery(running);
  }

  private scheduleRecovery(running: Running): void {
    clearTimeout(running.recoveryTimer);
    running.recoveryTimer = setTimeout(() => {
      this.background('recovery', this.serialized(async () => {
        if (this.running !== running || running.manager || !running.failure) return;
        // Opening the log needs no space, so a start on a still-full disk would succeed and fail
        // again at the next write: wait until there is room to work with.
        if ((await freeBytes(this.local.raftDir)) < RECOVERY_FREE_BYTES) return this.scheduleRecovery(running);
        try {
          await this.startManager(running, undefined);
          if (!running.manager) return; // it failed again while starting, and said so
          running.failure = undefined;
          this.logger.info('swarm: the manager started again after a storage failure');
          this.statusChanged();
        } catch (error) {
          running.manager = undefined;
          running.failure = describeFailure(error instanceof Error ? error : new Error(String(error)), this.local.raftDir);
          if (running.failure.recovering) this.scheduleRecovery(running);
        }
      }));
    }, RECOVERY_RETRY_MS);
    running.recoveryTimer.unref();
  }

  /** A manager told this node it was removed: stop for good, keep saying why until `swarm leave`. */
  private async onRemoved(running: Running): Promise<void> {
    if (this.running !== running) return;
    this.logger.warn('swarm: this node was removed from the swarm by a manager');
    const local: LocalSwarmState = { ...running.local, removed: true };
    await this.halt();
    await this.local.wipeRaft().catch(() => undefined);
    await this.local.save(local).catch(() => undefined);
    this.removed = local;
    this.statusChanged();
  }

  /** Demoted (or left): stop being a Raft member, forget the log, keep running tasks as a worker. */
  private async becomeWorker(running: Running): Promise<void> {
    const manager = running.manager;
    if (!manager || this.running !== running) return;
    // Remember where the other managers are before the store goes away.
    for (const member of manager.raft.raftView().members) {
      if (member.nodeId !== running.local.nodeId && member.addr) running.knownManagers.set(member.nodeId, member.addr);
    }
    running.manager = undefined;
    await manager.stop();
    await this.local.wipeRaft();
    await this.atRest.forget(running.credentials);
    running.local = { ...running.local, role: 'worker', managerAddrs: [...running.knownManagers.values()], managers: this.managerRecords(running) };
    await this.local.save(running.local);
    this.logger.info('swarm: this node is now a worker');
    this.statusChanged();
  }

  private async becomeManager(running: Running): Promise<void> {
    // A manager whose Raft node stopped keeps its log for recovery: never start over it here.
    if (running.manager || running.failure || this.running !== running) return;
    await this.local.wipeRaft();
    running.local = { ...running.local, role: 'manager' };
    await this.local.save(running.local);
    await this.startManager(running, undefined);
    this.logger.info('swarm: this node is now a manager');
    this.statusChanged();
  }

  private managerRecords(running: Running): { nodeId: string; addr: string }[] {
    return [...running.knownManagers].map(([nodeId, addr]) => ({ nodeId, addr }));
  }

  private async heartbeatReport(running: Running): Promise<HeartbeatReport> {
    return {
      description: await this.nodeDescription(),
      addr: hostOnly(running.local.advertiseAddr),
      clusterAddr: running.local.advertiseAddr,
      certNotAfter: readNodeCertificate(running.credentials.certPem).notAfter.toISOString(),
    };
  }

  private async onHeartbeatAnswer(running: Running, answer: HeartbeatAnswer): Promise<void> {
    if (this.running !== running) return;
    for (const { nodeId, addr } of answer.managers) running.knownManagers.set(nodeId, addr);
    // Managers no longer in the answer (demoted, removed) are forgotten: they must not be dialled as managers.
    for (const id of [...running.knownManagers.keys()]) {
      if (!answer.managers.some((m) => m.nodeId === id)) running.knownManagers.delete(id);
    }
    let changed = false;
    if (answer.clusterId && running.local.clusterId !== answer.clusterId) {
      running.local = { ...running.local, clusterId: answer.clusterId };
      changed = true;
    }
    const addrs = answer.managers.map((m) => m.addr).filter((a) => a !== running.local.advertiseAddr);
    const records = this.managerRecords(running);
    if (addrs.length > 0 && (!isDeepStrictEqual([...running.local.managerAddrs].sort(), [...addrs].sort()) || !isDeepStrictEqual(running.local.managers, records))) {
      running.local = { ...running.local, managerAddrs: addrs, managers: records };
      changed = true;
    }
    if (changed) await this.local.save(running.local);
    await running.renewer.maybeRenew(answer).catch((error: unknown) =>
      this.logger.warn('swarm: certificate renewal failed; will retry', { error: error instanceof Error ? error.message : String(error) }),
    );
    if (answer.desiredRole === 'manager' && !running.manager && !running.failure) await this.serialized(() => this.becomeManager(running));
    // A manager the swarm no longer counts (demoted while away, or left behind by --force-new-cluster).
    const counted = answer.managers.some((m) => m.nodeId === running.local.nodeId);
    if (answer.desiredRole === 'worker' && running.manager && !counted && answer.leaderId !== running.local.nodeId) {
      await this.serialized(() => this.becomeWorker(running));
    }
  }

  private async installCredentials(running: Running, credentials: NodeCredentials): Promise<void> {
    await this.atRest.saveCredentials(credentials);
    running.credentials = credentials;
    // New connections must present the new certificate: its role is what peers authorize.
    running.pool.setCredentials(tlsCredentials(credentials), { closeExisting: true });
    running.server.setCredentials(tlsCredentials(credentials));
    const info = readNodeCertificate(credentials.certPem);
    this.logger.info('swarm: node certificate renewed', { role: info.role, notAfter: info.notAfter.toISOString() });
  }

  /** The join service's hook: record the node in the store before its certificate is handed out. */
  private async registerJoiningNode(running: Running, joining: RegisteredNode): Promise<void> {
    const manager = running.manager;
    if (!manager) throw skepError('NOT_A_MANAGER');
    const now = iso();
    const role: NodeRole = joining.role === 'swarm-manager' ? 'manager' : 'worker';
    await manager.raft.propose({
      op: 'node.register',
      node: {
        id: joining.nodeId,
        createdAt: now,
        updatedAt: now,
        spec: { role, availability: 'active', labels: {} },
        role: 'worker',
        description: { hostname: '', platform: { os: '', architecture: '' }, resources: { cpus: 0, memoryBytes: 0 }, engineVersion: '' },
        status: { state: 'unknown', addr: hostOnly(joining.remoteAddress), message: 'joining' },
        clusterAddr: '',
        certNotAfter: readNodeCertificate(joining.certPem).notAfter.toISOString(),
      },
    });
  }

  private async answerHeartbeat(running: Running, nodeId: string, report: HeartbeatReport): Promise<HeartbeatAnswer> {
    const manager = running.manager;
    if (!manager) throw running.failure ? this.failureError(running.failure) : skepError('NOT_A_MANAGER');
    if (manager.isLeader) {
      await manager.dispatcher.heartbeat(nodeId, report);
    } else {
      const leaderId = manager.raft.leaderId;
      const leaderAddr = leaderId ? manager.raft.addressOf(leaderId) : undefined;
      if (!leaderId || !leaderAddr) throw skepError('NO_LEADER');
      // The caller's identity travels as this manager read it from the caller's certificate.
      await call(running.pool, { address: leaderAddr, nodeId: leaderId, role: 'swarm-manager' }, 'dispatcher.forward', { nodeId, report }, { timeoutMs: this.heartbeatPeriodMs });
    }
    const state = manager.raft.store.state;
    const voters = manager.raft.confState().voters;
    return {
      clusterId: state.cluster?.id ?? '',
      leaderId: manager.raft.leaderId,
      managers: voters.map((id) => ({ nodeId: id, addr: manager.raft.addressOf(id) ?? '' })).filter((m) => m.addr !== ''),
      desiredRole: state.nodes[nodeId]?.spec.role ?? 'worker',
      // The managers mark a node Down after three of their periods, so the node beats at theirs.
      periodMs: this.heartbeatPeriodMs,
    };
  }

  private failureError(failure: SwarmFailure): SkepError {
    return new SkepError(failure.code, failure.message);
  }

  private requireRunning(): Running {
    if (!this.running) throw skepError('NOT_IN_SWARM');
    return this.running;
  }

  private requireManager(): Manager {
    const running = this.requireRunning();
    if (running.failure) throw this.failureError(running.failure);
    if (!running.manager) throw skepError('NOT_A_MANAGER');
    return running.manager;
  }

  private async managerCall<T>(action: (manager: Manager, running: Running) => Promise<T>): Promise<T> {
    if (this.removed) throw skepError('NODE_REMOVED');
    if (this.locked) throw skepError('SWARM_LOCKED');
    // Docker's words for a manager command on a node outside any swarm.
    if (!this.running) throw skepError('NOT_A_MANAGER_NO_SWARM');
    const running = this.running;
    return action(this.requireManager(), running);
  }

  /**
   * Work started by an event (a heartbeat answer, a Raft callback) has nobody to report to: its
   * failure is logged, never left to crash the process — a full disk must not take the node down.
   */
  private background(what: string, work: Promise<unknown>): void {
    work.catch((error: unknown) => this.logger.warn(`swarm: ${what} failed`, { error: error instanceof Error ? error.message : String(error) }));
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
    clearTimeout(running.recoveryTimer);
    running.session?.stop();
    await running.tasks?.close().catch(() => undefined);
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

/** What a person sees when the manager stops, and whether it comes back by itself. */
function describeFailure(error: Error, raftDir: string): SwarmFailure {
  const code = errnoOf(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const e = skepError('SWARM_FAILED', `the disk holding ${raftDir} is full`, 'Free some space on it: Skep retries every few seconds and resumes by itself.');
    return { code: e.code, message: e.message, recovering: true };
  }
  if (code === 'EIO' || code === 'EROFS') {
    const e = skepError('SWARM_FAILED', `writing to ${raftDir} failed (${code})`, 'Check the disk; Skep retries every few seconds and resumes once it can write again.');
    return { code: e.code, message: e.message, recovering: true };
  }
  const e = skepError(
    'SWARM_FAILED',
    error.message,
    'If other managers are healthy, run "skep swarm leave --force" on this node and join it again; if it was the last manager, restore its data folder from a backup or run "skep swarm init --force-new-cluster" on a manager that still has the state.',
  );
  return { code: e.code, message: e.message, recovering: false };
}

async function freeBytes(dir: string): Promise<number> {
  try {
    const stats = await statfs(dir);
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return Number.POSITIVE_INFINITY; // can't tell: let the start itself decide
  }
}

function errnoOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    const inMessage = e instanceof Error ? /\b(ENOSPC|EDQUOT|EIO|EROFS)\b/.exec(e.message)?.[1] : undefined;
    if (inMessage) return inMessage;
  }
  return undefined;
}
