// The error catalog: every text a person can see when Skep refuses something, once, with a code.
// The CLI prints these, the API carries them as {code, message, details}, and the GUI shows the
// same words in its dialogs. Where Docker Swarm has a text, it is kept with "docker" → "skep".

export interface ErrorEnvelope {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

interface CatalogEntry<Args extends unknown[]> {
  /** Whether `--force` (or the GUI's confirmation) may override the refusal. */
  readonly overridableByForce: boolean;
  readonly text: (...args: Args) => string;
}

function entry<Args extends unknown[]>(overridableByForce: boolean, text: (...args: Args) => string): CatalogEntry<Args> {
  return { overridableByForce, text };
}

export const ERROR_CATALOG = {
  // Generic transport and input errors.
  INVALID_REQUEST: entry(false, (reason: string) => `invalid request: ${reason}`),
  UNKNOWN_METHOD: entry(false, (method: string) => `unknown method "${method}"`),
  UNAUTHORIZED: entry(false, () => 'unauthorized: a valid access token is required'),
  INTERNAL: entry(false, (reason: string) => `internal error: ${reason}`),
  DAEMON_UNREACHABLE: entry(false, (address: string) =>
    `Cannot connect to the Skep daemon at ${address}. Is the skep daemon running? Start it with "skep daemon".`),

  // Swarm membership (texts as Docker's).
  SWARM_EXISTS: entry(false, () =>
    'This node is already part of a swarm. Use "skep swarm leave" to leave this swarm and join another one.'),
  NOT_IN_SWARM: entry(false, () =>
    'This node is not part of a swarm'),
  NOT_A_MANAGER: entry(false, () =>
    'This node is not a swarm manager. Worker nodes can\'t be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.'),
  NOT_A_MANAGER_NO_SWARM: entry(false, () =>
    'This node is not a swarm manager. Use "skep swarm init" or "skep swarm join" to connect this node to swarm and try again.'),
  LISTEN_FAILED: entry(false, (address: string, reason: string) =>
    `could not listen on ${address}: ${reason}`),
  LEAVE_LAST_MANAGER: entry(true, () =>
    'You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.'),
  LEAVE_LOSES_QUORUM: entry(true, (remaining: number, total: number) =>
    `You are attempting to leave the swarm on a node that is participating as a manager. Removing this node leaves ${remaining} managers out of ${total}. Without a Raft quorum your swarm will be inaccessible. The only way to restore a swarm that has lost consensus is to reinitialize it with \`--force-new-cluster\`. Use \`--force\` to suppress this message.`),
  DEMOTE_LAST_MANAGER: entry(false, () =>
    'attempting to demote the last manager of the swarm'),
  DEMOTE_LOSES_QUORUM: entry(false, () =>
    'can\'t remove member from the raft: this would result in a loss of quorum'),
  REMOVE_NODE_NOT_DOWN: entry(true, (node: string) =>
    `node ${node} is not down and can't be removed`),
  REMOVE_MANAGER: entry(false, (node: string) =>
    `node ${node} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`),
  NODE_NOT_FOUND: entry(false, (node: string) =>
    `node ${node} not found`),
  NODE_AMBIGUOUS: entry(false, (node: string, matches: number) =>
    `node ${node} is ambiguous (${matches} matches found)`),
  NODE_LABEL_NOT_FOUND: entry(false, (key: string) =>
    `key ${key} doesn't exist in node's labels`),
  INVALID_JOIN_TOKEN: entry(false, () =>
    'invalid join token'),
  NO_LEADER: entry(false, () =>
    'The swarm does not have a leader. It\'s possible that too few managers are online. Make sure more than half of the managers are online.'),

  // Trust between nodes (electron/protocol): who may call what.
  PERMISSION_DENIED: entry(false, (method: string, reason: string) =>
    `permission denied: ${method}: ${reason}`),
  NODE_REMOVED: entry(false, () =>
    'This node was removed from the swarm. Use "skep swarm leave --force" to clean up its swarm state, then join again with a new token.'),
  SWARM_FAILED: entry(false, (reason: string, remedy: string) =>
    `This node's swarm manager has stopped: ${reason}. ${remedy}`),

  // Transport and PKI
  PEER_UNREACHABLE: entry(false, (address: string, reason: string) =>
    `cannot connect to ${address}: ${reason}`),
  CONNECTION_CLOSED: entry(false, (address: string) =>
    `the connection to ${address} was closed`),
  RPC_TIMEOUT: entry(false, (method: string, timeoutMs: number) =>
    `request "${method}" timed out after ${timeoutMs} ms`),
  SEND_BUFFER_FULL: entry(false, (address: string) =>
    `the send buffer for ${address} is full`),
  PROTOCOL_ERROR: entry(false, (reason: string) =>
    `protocol error: ${reason}`),
  PEER_IDENTITY_MISMATCH: entry(false, (expected: string, actual: string) =>
    `the peer presented the identity ${actual}, expected ${expected}`),
  CA_DIGEST_MISMATCH: entry(false, (expectedHex: string) =>
    `remote CA does not match fingerprint. Expected: ${expectedHex}`),
  JOIN_TOKEN_REJECTED: entry(false, () =>
    'A valid join token is necessary to join this cluster'),
  INVALID_CSR: entry(false, (reason: string) =>
    `invalid certificate signing request: ${reason}`),
  INVALID_CERTIFICATE: entry(false, (reason: string) =>
    `invalid certificate: ${reason}`),

  // Service specs (swarmkit's controlapi and the Docker CLI's texts).
  SERVICE_NAME_REQUIRED: entry(false, () =>
    'meta: name must be provided'),
  SERVICE_NAME_INVALID: entry(false, () =>
    'name must be valid as a DNS name component'),
  SERVICE_NAME_TOO_LONG: entry(false, () =>
    'name must be 63 characters or fewer'),
  SERVICE_REPLICAS_NEGATIVE: entry(false, () =>
    'Number of replicas must be non-negative'),
  SERVICE_MAX_REPLICAS_GLOBAL: entry(false, () =>
    'replicas-max-per-node can only be used with replicated or replicated-job mode'),
  SERVICE_IMAGE_REQUIRED: entry(false, () =>
    'ContainerSpec: image reference must be provided'),
  SERVICE_IMAGE_INVALID: entry(false, (image: string) =>
    `ContainerSpec: "${image}" is not a valid repository/tag`),
  SERVICE_DUPLICATE_MOUNT: entry(false, (target: string) =>
    `ContainerSpec: duplicate mount point: ${target}`),
  SERVICE_HEALTH_DURATION: entry(false, (field: 'Interval' | 'Timeout' | 'StartPeriod') =>
    `ContainerSpec: ${field} in HealthConfig cannot be less than 1ms`),
  SERVICE_HEALTH_RETRIES: entry(false, () =>
    'ContainerSpec: Retries in HealthConfig cannot be negative'),
  SERVICE_CPU_TOO_SMALL: entry(false, (cpus: string) =>
    `invalid cpu value ${cpus}: Must be at least 0.001`),
  SERVICE_MEMORY_TOO_SMALL: entry(false, (bytes: number) =>
    `invalid memory value ${bytes}: Must be at least 4MiB`),
  SERVICE_RESTART_DELAY_NEGATIVE: entry(false, () =>
    'TaskSpec: restart-delay cannot be negative'),
  SERVICE_RESTART_WINDOW_NEGATIVE: entry(false, () =>
    'TaskSpec: restart-window cannot be negative'),
  SERVICE_UPDATE_DELAY_NEGATIVE: entry(false, () =>
    'TaskSpec: update-delay cannot be negative'),
  SERVICE_UPDATE_MONITOR_NEGATIVE: entry(false, () =>
    'TaskSpec: update-monitor cannot be negative'),
  SERVICE_UPDATE_FAILURE_RATIO: entry(false, () =>
    'TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1'),
  CONSTRAINT_NO_OPERATOR: entry(false, () =>
    'constraint expected one operator from ==, !='),
  CONSTRAINT_KEY_INVALID: entry(false, (key: string) =>
    `key '${key}' is invalid`),
  CONSTRAINT_VALUE_INVALID: entry(false, (value: string) =>
    `value '${value}' is invalid`),
  PLACEMENT_PREFERENCE_INVALID: entry(false, (preference: string) =>
    `unsupported placement preference ${preference} (only spread is supported)`),
  PORT_INVALID: entry(false, (field: 'target' | 'published', value: string, reason: 'value out of range' | 'invalid syntax') =>
    `invalid ${field} port (${value}): value must be an integer: strconv.ParseUint: parsing "${value}": ${reason}`),
  PORT_DUPLICATE: entry(false, () =>
    'EndpointSpec: duplicate published ports provided'),
  SERVICE_NOT_FOUND: entry(false, (service: string) =>
    `service ${service} not found`),
  SERVICE_AMBIGUOUS: entry(false, (service: string, matches: number) =>
    `service ${service} is ambiguous (${matches} matches found)`),
  SERVICE_NAME_CONFLICT: entry(false, () =>
    'rpc error: code = AlreadyExists desc = name conflicts with an existing object'),
  SERVICE_SCALE_NOT_REPLICATED: entry(false, () =>
    'scale can only be used with replicated or replicated-job mode'),
  SERVICE_NO_PREVIOUS_SPEC: entry(false, (service: string) =>
    `service ${service} does not have a previous spec`),
  // Task execution on a node (texts as Docker Swarm's executor reports them).
  TASK_NON_ZERO_EXIT: entry(false, (exitCode: number) =>
    `task: non-zero exit (${exitCode})`),
  TASK_UNHEALTHY: entry(false, () =>
    'unhealthy container'),
  TASK_NO_SUCH_CONTAINER: entry(false, (container: string) =>
    `No such container: ${container}`),
  TASK_NOT_ON_NODE: entry(false, (taskId: string) =>
    `task ${taskId} is not assigned to this node`),
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

type ArgsOf<C extends ErrorCode> = Parameters<(typeof ERROR_CATALOG)[C]['text']>;

/** An error that crosses every boundary (IPC, WebSocket, control socket) as an ErrorEnvelope. */
export class SkepError extends Error {
  override readonly name = 'SkepError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
  }

  toEnvelope(): ErrorEnvelope {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static fromEnvelope(envelope: ErrorEnvelope): SkepError {
    return new SkepError(envelope.code, envelope.message, envelope.details);
  }
}

/** Builds the catalog's error for `code`, with the catalog's text. */
export function skepError<C extends ErrorCode>(code: C, ...args: ArgsOf<C>): SkepError {
  const text = (ERROR_CATALOG[code].text as (...a: ArgsOf<C>) => string)(...args);
  return new SkepError(code, text);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOG, value);
}

/** Any thrown value as an envelope; unknown errors become INTERNAL without leaking stack traces. */
export function toErrorEnvelope(error: unknown): ErrorEnvelope {
  if (error instanceof SkepError) return error.toEnvelope();
  const reason = error instanceof Error ? error.message : String(error);
  return skepError('INTERNAL', reason).toEnvelope();
}
