// The provisioning half of the API (shared/api.ts, machine*): what the wizard and `skep machine`
// call. It drives one machine at a time through connect → trust → facts → plan → install → joined
// and streams each phase and step as 'provision.progress' events. The join token and the manager's
// address come from this node's own API (swarmJoinToken), never from the swarm's internals.
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SkepApi, SkepEvent } from '../../shared/api.js';
import { SkepError, skepError, type ErrorCode } from '../../shared/errors.js';
import {
  formatMachineAddress,
  type HostKeyReport,
  type MachineAddResult,
  type MachineCheckResult,
  type MachineFacts,
  type MachineRecord,
  type MachineRemoveResult,
  type MachineRequest,
  type MachineTarget,
  type PlanStepId,
  type ProvisionPhase,
  type ProvisionStepState,
} from '../../shared/provision.js';
import type { NodeRole } from '../../shared/types.js';
import { SKEP_VERSION } from '../../shared/version.js';
import { noopLogger, type Logger } from '../net/index.js';
import { clockOffset, factsFrom, parseKeyValues, ROOT_FACTS_SCRIPT, USER_FACTS_SCRIPT } from './facts.js';
import { KnownHosts, type HostKey } from './host-keys.js';
import { removeAgent, runStep, stagingDir, STEP_TITLES } from './install.js';
import { shellQuote } from './layout.js';
import { MachineRecords } from './machines.js';
import { planInstall } from './plan.js';
import { checkSudoPassword, remote, type Remote } from './remote.js';
import { connect, ConnectionLost, peekHostKey, type SshSession } from './ssh.js';

/** What provisioning needs from the node it runs in: its public API, nothing deeper. */
export type SwarmSide = Pick<SkepApi, 'getSwarmStatus' | 'swarmJoinToken' | 'nodeList' | 'nodeDemote' | 'nodeRemove'>;

export interface ProvisionOptions {
  readonly dataDir: string;
  readonly swarm: SwarmSide;
  readonly emit: (event: SkepEvent) => void;
  /** The agent bundle to copy (default: the packaged one, or out/cli/skep.mjs beside this code). */
  readonly agentBundlePath?: string;
  readonly logger?: Logger;
  /** How long to wait for an added node to show Ready. */
  readonly readyTimeoutMs?: number;
}

interface Bundle {
  readonly path: string;
  readonly bytes: Buffer;
  readonly sha256: string;
  readonly version: string;
}

/** The Node-18 single-file agent: in a packaged app under resources/agent, else the built CLI. */
export function defaultAgentBundlePath(): string {
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) return path.join(resourcesPath, 'agent', 'skep-agent.mjs');
  // Running inside the CLI bundle itself (`skep daemon`): that file is the agent.
  const self = fileURLToPath(import.meta.url);
  if (path.basename(self) === 'skep.mjs') return self;
  // The Electron main bundle (out/main/index.mjs) beside out/cli/skep.mjs.
  return fileURLToPath(new URL('../cli/skep.mjs', import.meta.url));
}

type Progress = (phase: ProvisionPhase, state: ProvisionStepState, message: string, extra?: { step?: PlanStepId; log?: string }) => void;

export class ProvisionService {
  private readonly knownHosts: KnownHosts;
  private readonly records: MachineRecords;
  private readonly logger: Logger;
  private readonly busy = new Set<string>();
  private bundle: Promise<Bundle> | undefined;

  constructor(private readonly options: ProvisionOptions) {
    this.knownHosts = new KnownHosts(options.dataDir);
    this.records = new MachineRecords(options.dataDir);
    this.logger = options.logger ?? noopLogger;
  }

  async machineHostKey(target: MachineTarget): Promise<HostKeyReport> {
    const key = await peekHostKey(target);
    return this.knownHosts.report(target.host, target.port, key);
  }

  machineCheck(request: MachineRequest): Promise<MachineCheckResult> {
    return this.exclusive(request, async (progress) => {
      const swarm = await this.swarmSide(request.role ?? 'worker');
      const { session, hostKey } = await this.open(request, progress);
      try {
        const { facts } = await this.readFacts(session, request, swarm.managerAddr, progress);
        const plan = planInstall({ facts, role: request.role ?? 'worker', bundle: await this.loadBundle(), swarm, installMissing: request.installMissing ?? false, sudoPasswordGiven: request.sudoPassword !== undefined });
        progress('plan', plan.stop ? 'failed' : 'done', plan.stop ? plan.stop.message : plan.upToDate ? 'Already a node of this swarm: nothing to do.' : `${plan.steps.length} steps`);
        return { hostKey, facts, plan };
      } finally {
        session.close();
      }
    });
  }

  machineAdd(request: MachineRequest): Promise<MachineAddResult> {
    return this.exclusive(request, async (progress) => {
      const role = request.role ?? 'worker';
      const swarm = await this.swarmSide(role);
      const bundle = await this.loadBundle();
      const { session } = await this.open(request, progress);
      const address = session.address;
      try {
        const { facts, run } = await this.readFacts(session, request, swarm.managerAddr, progress);
        const plan = planInstall({ facts, role, bundle, swarm, installMissing: request.installMissing ?? false, sudoPasswordGiven: request.sudoPassword !== undefined });
        if (plan.stop) {
          progress('plan', 'failed', plan.stop.message);
          throw new SkepError(plan.stop.code as ErrorCode, plan.stop.message);
        }
        progress('plan', 'done', plan.upToDate ? 'Already a node of this swarm with this version: nothing to change.' : plan.steps.map((s) => s.title).join(', '));
        if (!plan.upToDate && facts.sudo === 'password' && request.sudoPassword === undefined) throw skepError('PROVISION_SUDO_PASSWORD_NEEDED', facts.user);
        progress('install', plan.upToDate ? 'skipped' : 'running', plan.upToDate ? 'Nothing to install' : 'Installing');
        let stage: Promise<string> | undefined;
        const staging = (): Promise<string> => (stage ??= stagingDir(run));
        for (const step of plan.steps) {
          const title = STEP_TITLES[step.id];
          progress('install', 'running', title, { step: step.id });
          try {
            await runStep(step.id, {
              remote: run,
              facts,
              bundle,
              join: { token: swarm.token, managerAddr: swarm.managerAddr, advertiseAddr: net.isIP(request.target.host) ? request.target.host : '', role },
              onLine: (line) => progress('install', 'running', title, { step: step.id, log: line }),
              stage: staging,
            });
          } catch (error) {
            const reported = error instanceof ConnectionLost ? skepError('SSH_CONNECTION_LOST', address, title.toLowerCase()) : error;
            progress('install', 'failed', reported instanceof Error ? reported.message : String(reported), { step: step.id });
            throw reported;
          }
          progress('install', 'done', title, { step: step.id });
        }
        if (stage) await run.user('rm -rf "$1"', [await stage]);
        if (!plan.upToDate) progress('install', 'done', 'Installed');
        const nodeId = plan.steps.some((s) => s.id === 'join') ? (await this.rootFacts(run, facts)).get('skep.nodeId') ?? '' : facts.skep.nodeId;
        if (!nodeId) throw skepError('PROVISION_STEP_FAILED', 'Joining the swarm', 'the agent reports no node ID');
        progress('joined', 'running', `Waiting for node ${nodeId} to be Ready`);
        await this.waitReady(nodeId);
        progress('joined', 'done', `Node ${nodeId} is Ready`);
        await this.records.put({
          host: request.target.host,
          port: request.target.port,
          user: request.target.user,
          role,
          nodeId,
          addedAt: new Date().toISOString(),
          hostname: facts.hostname,
          os: facts.os.name,
          architecture: facts.architecture,
        });
        this.logger.info('provision: machine added', { address, nodeId, role, changed: !plan.upToDate });
        return { nodeId, role, changed: !plan.upToDate, stepsRun: plan.steps.map((s) => s.id) };
      } finally {
        session.close();
      }
    });
  }

  async machineList(): Promise<MachineRecord[]> {
    return this.records.list();
  }

  machineRemove(request: MachineRequest): Promise<MachineRemoveResult> {
    return this.exclusive(request, async (progress) => {
      const record = (await this.records.list()).find((r) => r.host === request.target.host && r.port === request.target.port);
      const status = await this.options.swarm.getSwarmStatus();
      const { session } = await this.open(request, progress);
      try {
        const managerAddr = status.state === 'active' ? status.nodeAddr : '';
        const { facts, run } = await this.readFacts(session, request, managerAddr, progress);
        if (!facts.skep.known) throw facts.sudo === 'none' ? skepError('PROVISION_NO_SUDO', facts.user, `${facts.user} ALL=(ALL:ALL) ALL`) : skepError('PROVISION_SUDO_PASSWORD_NEEDED', facts.user);
        const nodeId = facts.skep.nodeId || record?.nodeId || '';
        const inSwarm = nodeId !== '' && status.state === 'active' && status.role === 'manager';
        if (inSwarm) {
          const node = (await this.options.swarm.nodeList()).find((n) => n.id === nodeId);
          if (node && (node.spec.role === 'manager' || node.role === 'manager')) {
            progress('remove', 'running', `Demoting node ${nodeId}`);
            await this.options.swarm.nodeDemote(nodeId);
            await this.waitUntil(async () => (await this.options.swarm.nodeList()).find((n) => n.id === nodeId)?.role !== 'manager', 30_000);
          }
        }
        progress('remove', 'running', 'Leaving the swarm and removing the agent');
        const report = await removeAgent(run, { ...facts, skep: { ...facts.skep, nodeId } }, (line) => progress('remove', 'running', 'Removing', { log: line }));
        if (inSwarm && (await this.options.swarm.nodeList()).some((n) => n.id === nodeId)) {
          await this.options.swarm.nodeRemove(nodeId, true);
          report.removed.push(`node ${nodeId} from the swarm's node list`);
        }
        await this.records.remove(request.target.host, request.target.port);
        report.left.push(`the pinned host key of ${session.address} (in ${this.knownHosts.file})`);
        progress('remove', 'done', `Removed ${report.removed.length} things; left ${report.left.length}`);
        return report;
      } catch (error) {
        if (error instanceof ConnectionLost) throw skepError('SSH_CONNECTION_LOST', session.address, 'removal');
        throw error;
      } finally {
        session.close();
      }
    });
  }

  // ---- phases ----

  private async open(request: MachineRequest, progress: Progress): Promise<{ session: SshSession; hostKey: HostKeyReport }> {
    const { target } = request;
    progress('connect', 'running', `Connecting to ${target.user}@${formatMachineAddress(target.host, target.port)}`);
    let hostKey: HostKeyReport | undefined;
    let trustFailure = false;
    try {
      const session = await connect({
        target,
        auth: request.auth,
        verifyHostKey: async (key: HostKey) => {
          progress('connect', 'done', 'Connected');
          progress('trust', 'running', `${key.keyType} key fingerprint is ${key.fingerprint}`);
          try {
            hostKey = await this.knownHosts.verify(target.host, target.port, key, {
              ...(request.acceptHostKey ? { accept: request.acceptHostKey } : {}),
              ...(request.replaceHostKey ? { replace: request.replaceHostKey } : {}),
            });
          } catch (error) {
            trustFailure = true;
            throw error;
          }
          progress('trust', 'done', `Host key ${key.fingerprint} is trusted`);
        },
      });
      if (!hostKey) throw skepError('SSH_UNREACHABLE', session.address, 'no host key was checked');
      return { session, hostKey };
    } catch (error) {
      progress(trustFailure ? 'trust' : 'connect', 'failed', error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  private async readFacts(session: SshSession, request: MachineRequest, managerAddr: string, progress: Progress): Promise<{ facts: MachineFacts; run: Remote }> {
    progress('facts', 'running', 'Reading the machine\'s facts (nothing is changed)');
    try {
      const [managerHost, managerPort] = splitHostPort(managerAddr);
      const bundle = await this.loadBundle();
      const started = Date.now();
      const userRun = await session.exec(`sh -c ${shellQuote(USER_FACTS_SCRIPT)} sh ${shellQuote(managerHost)} ${shellQuote(managerPort)} ${bundle.sha256}`);
      const user = parseKeyValues(userRun.stdout);
      const clockOffsetMs = clockOffset(user, started, Date.now());
      let facts = factsFrom(user, undefined, clockOffsetMs);
      if (request.sudoPassword !== undefined && (facts.sudo === 'password' || facts.sudo === 'none')) {
        const verdict = await checkSudoPassword(session, request.sudoPassword);
        if (verdict === 'wrong' && facts.sudo === 'password') throw skepError('PROVISION_SUDO_PASSWORD_WRONG', facts.user);
        if (verdict === 'ok') facts = { ...facts, sudo: 'password' };
      }
      const run = remote(session, facts.sudo, request.sudoPassword, facts.user);
      const mayRoot = facts.sudo === 'root' || facts.sudo === 'nopasswd' || (facts.sudo === 'password' && request.sudoPassword !== undefined);
      if (mayRoot) facts = factsFrom(user, await this.rootFacts(run, facts), facts.clockOffsetMs);
      progress('facts', 'done', `${facts.os.name || facts.os.id}, ${facts.architecture}, ${facts.cpus} CPUs, Node.js ${facts.node.version || 'missing'}, Docker ${facts.docker.version || 'missing'}, sudo: ${facts.sudo}`);
      return { facts, run };
    } catch (error) {
      const reported = error instanceof ConnectionLost ? skepError('SSH_CONNECTION_LOST', session.address, 'reading facts') : error;
      progress('facts', 'failed', reported instanceof Error ? reported.message : String(reported));
      throw reported;
    }
  }

  private async rootFacts(run: Remote, facts: MachineFacts): Promise<Map<string, string>> {
    const result = await run.root(ROOT_FACTS_SCRIPT, [facts.node.path || '/usr/bin/node']);
    return parseKeyValues(result.stdout);
  }

  // ---- helpers ----

  private async swarmSide(role: NodeRole): Promise<{ clusterId: string; managerAddr: string; token: string }> {
    const status = await this.options.swarm.getSwarmStatus();
    if (status.state !== 'active') throw skepError('NOT_A_MANAGER_NO_SWARM');
    if (status.role !== 'manager') throw skepError('NOT_A_MANAGER');
    const { token, managerAddr } = await this.options.swarm.swarmJoinToken(role, false);
    return { clusterId: status.clusterId, managerAddr, token };
  }

  private loadBundle(): Promise<Bundle> {
    this.bundle ??= (async () => {
      const bundlePath = this.options.agentBundlePath ?? defaultAgentBundlePath();
      let bytes: Buffer;
      try {
        bytes = await readFile(bundlePath);
      } catch {
        throw skepError('PROVISION_BUNDLE_MISSING', bundlePath);
      }
      return { path: bundlePath, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), version: SKEP_VERSION };
    })();
    this.bundle.catch(() => (this.bundle = undefined));
    return this.bundle;
  }

  private async waitReady(nodeId: string): Promise<void> {
    const ready = await this.waitUntil(async () => (await this.options.swarm.nodeList()).some((n) => n.id === nodeId && n.status.state === 'ready'), this.options.readyTimeoutMs ?? 30_000);
    if (!ready) throw skepError('PROVISION_STEP_FAILED', 'Waiting for the node', `node ${nodeId} did not become Ready`);
  }

  private async waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await condition().catch(() => false)) return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return false;
  }

  /** One request per machine at a time; progress events carry the caller's operation ID. */
  private async exclusive<T>(request: MachineRequest, action: (progress: Progress) => Promise<T>): Promise<T> {
    const address = formatMachineAddress(request.target.host, request.target.port);
    if (this.busy.has(address)) throw skepError('PROVISION_BUSY', address);
    this.busy.add(address);
    const operationId = request.operationId ?? randomUUID();
    const progress: Progress = (phase, state, message, extra = {}) =>
      this.options.emit({ type: 'provision.progress', payload: { operationId, host: address, phase, state, message, ...extra, at: new Date().toISOString() } });
    try {
      return await action(progress);
    } finally {
      this.busy.delete(address);
    }
  }
}

function splitHostPort(address: string): [string, string] {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  return match ? [match[1] ?? '', match[2] ?? ''] : [address, ''];
}
