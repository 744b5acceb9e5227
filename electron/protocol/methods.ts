// The node-to-node contract: every cluster method in one table — its body and reply schemas, who
// may call it, and its bounds. The server refuses a call whose caller or body doesn't fit before
// any handler runs (server.ts); the client checks replies against the same schemas (client.ts).
//
// Who may call, as swarmkit declares per RPC (`swarm-manager`, `swarm-worker`), but stricter:
//  - 'raft-member': a manager certificate whose node is a current Raft member (voter or learner)
//    of the receiving manager's configuration, and not removed. Raft traffic and forwards.
//  - 'node': any node of the swarm (worker or manager certificate) that the store knows and has
//    not removed — and only ever for itself: its identity comes from its certificate, never from
//    the body, so these bodies carry no node ID at all.
import { z } from 'zod';

export type Caller = 'raft-member' | 'node';

/** Bounds, stated once: what a well-behaved node never exceeds. */
export const BOUNDS = {
  /** Raft: entries per append (the core batches far fewer; a snapshot chunk is one message). */
  entriesPerMessage: 4096,
  /** Raft: bytes of one entry's data; a command is a small JSON object. */
  entryBytes: 1024 * 1024,
  /** Raft: one snapshot chunk (the core sends chunks of at most 1 MiB). */
  snapshotChunkBytes: 4 * 1024 * 1024,
  /** Node descriptions: a hostname is at most 253 characters (RFC 1035); other strings are short. */
  hostname: 253,
  shortText: 256,
  address: 300,
  csrPemBytes: 16 * 1024,
  /** Tasks one node is assigned (Swarm keeps a node's tasks far below this). */
  tasksPerNode: 10_000,
  /** Status reports in one batch; the agent sends more as several batches. */
  reportsPerBatch: 1000,
  /** Entries of a task's lists (command, env, mounts, ports, labels). */
  listEntries: 1000,
  /** Log lines one task's answer carries, and the characters of one line. */
  logLines: 10_000,
  logLineChars: 16 * 1024,
  /** Lines of one push while following a task's log; following streams per connection. */
  logLinesPerPush: 500,
  followsPerConnection: 64,
} as const;

const nodeId = z.string().regex(/^[0-9a-z]{25}$/, 'a node ID');
/** Raft's counters: non-negative safe integers (terms, indexes, byte offsets). */
const counter = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const bytes = (max: number): z.ZodType<Uint8Array> =>
  z.instanceof(Uint8Array).refine((b) => b.byteLength <= max, `at most ${max} bytes`);

const entry = z.strictObject({
  term: counter,
  index: counter,
  type: z.enum(['normal', 'confChange']),
  data: bytes(BOUNDS.entryBytes),
});

const confState = z.strictObject({
  voters: z.array(nodeId).max(64),
  learners: z.array(nodeId).max(64),
});

/** Every Raft message that may cross the network; local types (hup, beat, …) never do. */
export const RaftMessage = z.strictObject({
  type: z.enum([
    'app', 'appResp', 'vote', 'voteResp', 'preVote', 'preVoteResp', 'heartbeat', 'heartbeatResp',
    'snap', 'snapResp', 'timeoutNow', 'readIndexResp', 'prop', 'transferLeader', 'readIndex',
  ]),
  from: nodeId,
  to: nodeId,
  term: counter,
  logTerm: counter,
  index: counter,
  entries: z.array(entry).max(BOUNDS.entriesPerMessage),
  commit: counter,
  reject: z.boolean(),
  rejectHint: counter,
  transfer: z.boolean().optional(),
  context: bytes(1024).optional(),
  snapshot: z
    .strictObject({
      metadata: z.strictObject({ index: counter, term: counter, confState }),
      offset: counter,
      totalBytes: counter,
      data: bytes(BOUNDS.snapshotChunkBytes),
    })
    .optional(),
});

const text = (max: number) => z.string().max(max);
const isPort = (n: number): boolean => n >= 1 && n <= 65535;

export const NodeDescription = z.strictObject({
  hostname: text(BOUNDS.hostname),
  platform: z.strictObject({ os: text(64), architecture: text(64) }),
  resources: z.strictObject({ cpus: z.number().int().min(0).max(4096), memoryBytes: counter }),
  engineVersion: text(64),
  /** The engine's labels (agent/exec/docker bounds them to 64 of 1 KiB each). */
  engineLabels: z
    .record(text(1024), text(1024))
    .refine((labels) => Object.keys(labels).length <= 64, 'at most 64 engine labels')
    .optional(),
});

/** What a node says about itself each heartbeat period. */
export const HeartbeatReport = z.strictObject({
  description: NodeDescription,
  /** The address others see it at (no port). */
  addr: text(BOUNDS.address),
  /** host:port of its cluster listener. */
  clusterAddr: text(BOUNDS.address)
    .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'host:port')
    .refine((addr) => isPort(Number(addr.slice(addr.lastIndexOf(':') + 1))), 'a port from 1 to 65535'),
  certNotAfter: z.iso.datetime(),
});
export type HeartbeatReport = z.infer<typeof HeartbeatReport>;

export const ManagerAddress = z.strictObject({ nodeId, addr: text(BOUNDS.address) });
export type ManagerAddress = z.infer<typeof ManagerAddress>;

export const HeartbeatAnswer = z.strictObject({
  clusterId: text(64),
  leaderId: nodeId.nullable(),
  managers: z.array(ManagerAddress).max(64),
  /** The role the swarm wants this node to have. */
  desiredRole: z.enum(['manager', 'worker']),
  /** How often the managers expect this node's heartbeat (Swarm's dispatcher tells its agents too). */
  periodMs: z.number().int().min(50).max(60_000).optional(),
});
export type HeartbeatAnswer = z.infer<typeof HeartbeatAnswer>;

const member = z.strictObject({
  nodeId,
  hostname: text(BOUNDS.hostname),
  addr: text(BOUNDS.address),
  role: z.enum(['leader', 'follower', 'candidate', 'learner', 'unknown']),
  reachable: z.boolean(),
  matchIndex: counter.nullable(),
  lag: counter.nullable(),
  lastContactMs: counter.nullable(),
});

export const RaftView = z.strictObject({
  term: counter,
  leaderId: nodeId.nullable(),
  commitIndex: counter,
  appliedIndex: counter,
  members: z.array(member).max(64).readonly(),
});

const empty = z.strictObject({});

const taskId = z.string().regex(/^[0-9a-z]{25}$/, 'a task ID');
/** A manager's name for one followed task log (random, per manager). */
const streamId = z.string().regex(/^[0-9a-z]{1,64}$/, 'a stream ID');
const agentState = z.enum(['NEW', 'PENDING', 'ASSIGNED', 'ACCEPTED', 'PREPARING', 'READY', 'STARTING', 'RUNNING', 'COMPLETE', 'SHUTDOWN', 'FAILED', 'REJECTED', 'REMOVE', 'ORPHANED']);
const longText = z.string().max(4096);
const list = <T extends z.ZodType>(item: T) => z.array(item).max(BOUNDS.listEntries);
const LogLine = z.strictObject({ stream: z.enum(['stdout', 'stderr']), text: z.string().max(BOUNDS.logLineChars), timestamp: z.string().max(64).optional() });
const port = z.strictObject({ protocol: z.enum(['tcp', 'udp']), targetPort: z.number().int().min(0).max(65535), publishedPort: z.number().int().min(0).max(65535) });

/** A task as the dispatcher hands it to its node's agent (electron/agent/exec/types.ts AgentTask). */
export const AssignedTask = z.strictObject({
  id: taskId,
  serviceId: taskId,
  serviceName: text(63),
  slot: counter.min(1).optional(),
  nodeId,
  desiredState: agentState,
  currentState: agentState.optional(),
  spec: z.strictObject({
    image: text(512),
    command: list(longText).optional(),
    args: list(longText).optional(),
    env: list(longText).optional(),
    labels: z.record(text(200), longText).optional(),
    mounts: list(z.strictObject({ type: z.enum(['bind', 'volume']), source: longText, target: longText, readOnly: z.boolean().optional() })).optional(),
    ports: list(port).optional(),
    limits: z.strictObject({ nanoCpus: counter.optional(), memoryBytes: counter.optional() }).optional(),
    healthcheck: z.strictObject({ test: list(longText), intervalMs: counter.optional(), timeoutMs: counter.optional(), retries: counter.optional(), startPeriodMs: counter.optional() }).optional(),
    stopSignal: text(32).optional(),
    stopGracePeriodMs: counter.optional(),
    hostname: text(BOUNDS.hostname).optional(),
    user: text(BOUNDS.shortText).optional(),
    workdir: longText.optional(),
  }),
});
export type AssignedTask = z.infer<typeof AssignedTask>;

/**
 * A node's complete set of assignments; `version` is the Raft index of the newest of them.
 * `unchanged`: the set is the one the node said it has (`dispatcher.tasks`' `known`), so `tasks` is empty.
 */
export const AssignmentSet = z.strictObject({ version: counter, tasks: z.array(AssignedTask).max(BOUNDS.tasksPerNode), unchanged: z.literal(true).optional() });

/** What a node says it holds: the version and size of the last set it was sent (together they change whenever the set does). */
export const KnownAssignments = z.strictObject({ known: z.strictObject({ version: counter, tasks: counter }).optional() });
export type AssignmentSet = z.infer<typeof AssignmentSet>;

/** One status report of the agent (electron/agent/exec/types.ts TaskStatusReport). */
export const TaskReport = z.strictObject({
  taskId,
  state: agentState,
  message: text(BOUNDS.shortText),
  err: longText.optional(),
  containerId: text(128).optional(),
  exitCode: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  portStatus: list(port).optional(),
  timestamp: z.iso.datetime(),
});
export type TaskReport = z.infer<typeof TaskReport>;

export interface MethodSpec<B extends z.ZodType, R extends z.ZodType | undefined> {
  readonly kind: R extends undefined ? 'notify' : 'request';
  readonly callers: Caller;
  readonly body: B;
  readonly reply: R;
  /** Said in the README's security section; kept here so it can't drift from the code. */
  readonly why: string;
}

function request<B extends z.ZodType, R extends z.ZodType>(callers: Caller, body: B, reply: R, why: string): MethodSpec<B, R> {
  return { kind: 'request', callers, body, reply, why } as MethodSpec<B, R>;
}

function notify<B extends z.ZodType>(callers: Caller, body: B, why: string): MethodSpec<B, undefined> {
  return { kind: 'notify', callers, body, reply: undefined, why } as MethodSpec<B, undefined>;
}

/** The whole cluster protocol. The join bootstrap (anonymous) lives in swarm/ca/join.ts. */
export const METHODS = {
  'raft.message': notify('raft-member', RaftMessage, 'Raft traffic between managers; `from` must be the certificate\'s node'),
  'raft.view': request('raft-member', empty, RaftView, 'a follower asks the leader for match indexes and contact times'),
  'dispatcher.heartbeat': request('node', HeartbeatReport, HeartbeatAnswer, 'a node reports itself Ready and learns the managers'),
  'dispatcher.forward': request(
    'raft-member',
    z.strictObject({ nodeId, report: HeartbeatReport }),
    empty,
    'a follower hands a heartbeat to the leader; nodeId is what the follower read from the caller\'s certificate',
  ),
  'dispatcher.leave': request('node', empty, empty, 'a node says it is leaving, so it shows Down at once'),
  'ca.renewNodeCertificate': request(
    'node',
    z.strictObject({ csrPem: text(BOUNDS.csrPemBytes) }),
    z.strictObject({ certPem: text(64 * 1024) }),
    'a node renews its own certificate; the role is the one the store wants for it',
  ),
  'dispatcher.tasks': request('node', KnownAssignments, AssignmentSet, 'a node asks for its own complete set of tasks (after each heartbeat and each change notification); one it already holds is not sent again'),
  'dispatcher.updateTaskStatus': request(
    'node',
    z.strictObject({ reports: z.array(TaskReport).min(1).max(BOUNDS.reportsPerBatch) }),
    empty,
    'a node reports its own tasks\' states; a report for a task assigned to another node is refused',
  ),
  'agent.taskLogs': request(
    'raft-member',
    z.strictObject({ taskId, tail: z.number().int().min(0).max(BOUNDS.logLines).optional(), sinceSeconds: counter.optional() }),
    z.strictObject({ lines: z.array(LogLine).max(BOUNDS.logLines) }),
    'a manager reads the log lines of a task the receiving node runs (service logs)',
  ),
  'agent.followTaskLogs': request(
    'raft-member',
    z.strictObject({ streamId, taskId, tail: z.number().int().min(0).max(BOUNDS.logLines).optional(), sinceSeconds: counter.optional() }),
    empty,
    'a manager starts following a task the receiving node runs (service logs -f); lines come back as agent.taskLogLines on the same connection',
  ),
  /** Sent by a node on the connection a follow came in on, until the task's log ends or the manager stops it. */
  'agent.taskLogLines': notify(
    'node',
    z.strictObject({ streamId, lines: z.array(LogLine).max(BOUNDS.logLinesPerPush), end: z.literal(true).optional() }),
    'a node pushes lines of a task it runs to the manager that follows it; the manager takes them only for a stream it opened to that node',
  ),
  'agent.stopTaskLogs': notify('raft-member', z.strictObject({ streamId }), 'a manager stops following (its client went away)'),
  /** Sent by a manager to a node's live connection when that node's assignments change. */
  'dispatcher.assignmentsChanged': notify('raft-member', empty, 'a manager tells a node to fetch its tasks now rather than at the next heartbeat'),
  /** Sent by a manager to a node's live connection as its removal applies. */
  'node.removed': notify('raft-member', empty, 'a manager tells a node it was removed from the swarm'),
} as const;

export type MethodName = keyof typeof METHODS;
export type RequestName = { [K in MethodName]: (typeof METHODS)[K]['kind'] extends 'request' ? K : never }[MethodName];
export type NotifyName = Exclude<MethodName, RequestName>;
export type BodyOf<M extends MethodName> = z.infer<(typeof METHODS)[M]['body']>;
export type ReplyOf<M extends RequestName> = (typeof METHODS)[M]['reply'] extends z.ZodType ? z.infer<NonNullable<(typeof METHODS)[M]['reply']>> : never;

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name);
}
