// The node's side of the cluster port: the protocol's methods mapped onto the manager (when this
// node is one) and the agent, behind electron/protocol's checks; the join service for newcomers.
import { skepError, type SkepError } from '../../shared/errors.js';
import type { Logger, PeerIdentity, RpcConnection, RpcServer } from '../net/index.js';
import { BOUNDS, serveProtocol, type Caller, type HeartbeatAnswer, type HeartbeatReport, type ProtocolServer } from '../protocol/index.js';
import type { Manager } from '../swarm/manager.js';
import type { LinesSink, TaskLogLine } from './service-logs.js';

export interface ClusterSide {
  /** The manager, while this node is one and its Raft node runs. */
  manager(): Manager | undefined;
  /** Managers this node knows (from heartbeat answers): a worker accepts manager calls only from them. */
  isKnownManager(nodeId: string): boolean;
  answerHeartbeat(nodeId: string, report: HeartbeatReport): Promise<HeartbeatAnswer>;
  onRemoved(): void;
  /** A manager said this node's tasks changed. */
  onAssignmentsChanged?(): void;
  /** The log lines of a task this node runs. */
  taskLogs?(taskId: string, options: { tail?: number; sinceSeconds?: number }): Promise<TaskLogLine[]>;
  /** Follows a task this node runs until its log ends or `signal` aborts; throws at once for a task it doesn't run. */
  followTaskLogs?(taskId: string, options: { tail?: number; sinceSeconds?: number }, onLines: LinesSink, signal: AbortSignal): Promise<void>;
  /** Lines a node pushed for a follow this manager opened. */
  onTaskLogLines?(nodeId: string, body: { streamId: string; lines: readonly TaskLogLine[]; end?: true }): void;
  readonly logger: Logger;
}

export function clusterProtocol(side: ClusterSide): ProtocolServer {
  // The follows each manager connection has open here; they end with the connection.
  const follows = new WeakMap<RpcConnection, Map<string, AbortController>>();
  const manager = (): Manager => {
    const m = side.manager();
    if (!m) throw skepError('NOT_A_MANAGER');
    return m;
  };
  return serveProtocol({
    logger: side.logger,
    authorizer: {
      check(peer: PeerIdentity, callers: Caller): SkepError | undefined {
        const m = side.manager();
        if (m) return m.authorize(peer, callers);
        // Not a manager (a worker, or a manager whose Raft node has stopped): only a manager
        // this node knows may tell it something, and nobody may ask it manager things.
        if (callers === 'raft-member' && peer.role === 'swarm-manager' && side.isKnownManager(peer.nodeId)) return undefined;
        return skepError('NOT_A_MANAGER');
      },
    },
    requests: {
      'dispatcher.heartbeat': (report, caller) => side.answerHeartbeat(caller.nodeId, report),
      'dispatcher.forward': async ({ nodeId, report }) => {
        await manager().dispatcher.heartbeat(nodeId, report);
        return {};
      },
      'dispatcher.leave': async (_body, caller) => {
        await manager().dispatcher.leave(caller.nodeId);
        return {};
      },
      'ca.renewNodeCertificate': async ({ csrPem }, caller) => ({ certPem: await manager().cluster.renewCertificate(caller.nodeId, csrPem) }),
      'raft.view': () => manager().raft.raftView(),
      'dispatcher.tasks': ({ known }, caller) => manager().assignments(caller.nodeId, known),
      'agent.taskLogs': async ({ taskId, ...options }) => {
        if (!side.taskLogs) throw skepError('TASK_NOT_ON_NODE', taskId);
        return { lines: await side.taskLogs(taskId, options) };
      },
      'agent.followTaskLogs': ({ streamId, taskId, ...options }, caller) => {
        if (!side.followTaskLogs) throw skepError('TASK_NOT_ON_NODE', taskId);
        const connection = caller.context.connection;
        const open = follows.get(connection) ?? new Map<string, AbortController>();
        follows.set(connection, open);
        if (open.size >= BOUNDS.followsPerConnection) throw skepError('INVALID_REQUEST', `at most ${BOUNDS.followsPerConnection} followed logs per connection`);
        const stop = new AbortController();
        const push = (lines: readonly TaskLogLine[]): void => {
          // A manager that doesn't read its pushes loses the follow, not this node's memory.
          if (!connection.notify('agent.taskLogLines', { streamId, lines: [...lines] })) stop.abort();
        };
        const done = side.followTaskLogs(taskId, options, push, stop.signal);
        open.set(streamId, stop);
        const unlisten = connection.onClose(() => stop.abort());
        void done.finally(() => {
          unlisten();
          open.delete(streamId);
          connection.notify('agent.taskLogLines', { streamId, lines: [], end: true });
        });
        return {};
      },
      'dispatcher.updateTaskStatus': async ({ reports }, caller) => {
        await manager().reportTaskStatus(caller.nodeId, reports);
        return {};
      },
    },
    notifications: {
      'raft.message': (message) => side.manager()?.raft.receive(message as never),
      'node.removed': () => side.onRemoved(),
      'dispatcher.assignmentsChanged': () => side.onAssignmentsChanged?.(),
      'agent.taskLogLines': (body, caller) => side.onTaskLogLines?.(caller.nodeId, body),
      'agent.stopTaskLogs': ({ streamId }, caller) => follows.get(caller.context.connection)?.get(streamId)?.abort(),
    },
  });
}

/** Tells a removed node's live connections why they end, then ends them. */
export function disconnectRemoved(server: RpcServer, nodeId: string): void {
  for (const connection of server.connections()) {
    if (connection.peer?.nodeId !== nodeId) continue;
    connection.notify('node.removed', {});
    connection.close();
  }
}

/** Tells these nodes' live connections to fetch their tasks now. */
export function notifyAssignmentsChanged(server: RpcServer, nodeIds: ReadonlySet<string>): void {
  for (const connection of server.connections()) {
    const nodeId = connection.peer?.nodeId;
    if (nodeId !== undefined && nodeIds.has(nodeId)) connection.notify('dispatcher.assignmentsChanged', {});
  }
}
