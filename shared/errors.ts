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
  // moby daemon/cluster/swarm.go Leave(): every manager is refused without --force. (Docker's
  // last-manager text ends with one more space, which a terminal doesn't show.)
  LEAVE_MANAGER: entry(true, () =>
    'You are attempting to leave the swarm on a node that is participating as a manager. The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message.'),
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
  INVALID_JOIN_TOKEN: entry(false, () =>
    'invalid join token'),
  // docker/cli cli/command/node/update.go mergeNodeUpdate; opts/opts.go ValidateLabel.
  LABEL_NOT_FOUND: entry(false, (key: string) =>
    `key ${key} doesn't exist in node's labels`),
  LABEL_EMPTY_KEY: entry(false, (label: string) =>
    `invalid label '${label}': empty name`),
  LABELS_TOO_LARGE: entry(false, (node: string, bytes: number, limitBytes: number) =>
    `the labels of node ${node} would take ${bytes} bytes; a node's labels (keys and values together) may take at most ${limitBytes} bytes. Remove some with --label-rm, or keep long values elsewhere.`),
  NO_LEADER: entry(false, () =>
    'The swarm does not have a leader. It\'s possible that too few managers are online. Make sure more than half of the managers are online.'),

  // The command line's own refusals (printed without "Error response from daemon").
  TEMPLATE_ERROR: entry(false, (detail: string) => detail),
  PRETTY_WITH_FORMAT: entry(false, () =>
    'cannot supply extra formatting options to the pretty template'),
  FILTER_FORMAT: entry(false, (value: string) =>
    `invalid argument "${value}" for "-f, --filter" flag: bad format of filter (expected name=value)`),
  INVALID_FILTER: entry(false, (name: string) =>
    `invalid filter '${name}'`),
  INVALID_ROLE_FILTER: entry(false, (value: string) =>
    `Invalid role filter: '${value}'`),
  INVALID_MEMBERSHIP_FILTER: entry(false, (value: string) =>
    `Invalid membership filter: '${value}'`),
  TOKEN_SOURCE: entry(false, () =>
    'give the join token with exactly one of --token, --token-file or --token-stdin'),
  TOKEN_FILE_UNREADABLE: entry(false, (file: string, reason: string) =>
    `could not read the join token from ${file}: ${reason}. Save it there with "skep swarm join-token -q worker > FILE" on a manager, or pass it with --token-stdin.`),
  UNKNOWN_ROLE: entry(false, (role: string) =>
    `unknown role ${role}`),
  CONTROL_HOST_UNSUPPORTED: entry(false, (address: string) =>
    `unsupported daemon address "${address}" (from -H or SKEP_HOST): give the daemon's control socket as a path or unix:///PATH.`),
  // docker/cli cli/cobra.go FlagErrorFunc and cli/required.go: a wrong command line, with its usage.
  FLAG_ERROR: entry(false, (detail: string, useLine: string, path: string) =>
    `${detail}\n\nUsage:  ${useLine}\n\nRun '${path} --help' for more information`),
  ARGS_AT_LEAST: entry(false, (path: string, count: number, useLine: string) =>
    `skep: '${path}' requires at least ${count} ${count === 1 ? 'argument' : 'arguments'}\n\nUsage:  ${useLine}\n\nSee '${path} --help' for more information`),
  ARGS_EXACTLY: entry(false, (path: string, count: number, useLine: string) =>
    `skep: '${path}' requires ${count} ${count === 1 ? 'argument' : 'arguments'}\n\nUsage:  ${useLine}\n\nRun '${path} --help' for more information`),
  ARGS_NONE: entry(false, (path: string, useLine: string) =>
    `skep: '${path}' accepts no arguments\n\nUsage:  ${useLine}\n\nRun '${path} --help' for more information`),
  UNKNOWN_COMMAND: entry(false, (path: string) =>
    `skep: unknown command: ${path}\n\nRun 'skep --help' for more information`),
  UNKNOWN_SHELL: entry(false, (shell: string) =>
    `unsupported shell "${shell}": use bash, zsh or fish`),

  // Joining: what went wrong at the address, in words a person can act on.
  JOIN_CONNECTION_REFUSED: entry(false, (address: string) =>
    `${address} refused the connection: nothing listens on that port. Check the port (a swarm's default is 2377) and that the manager runs "skep daemon".`),
  JOIN_NOTHING_ANSWERS: entry(false, (address: string, seconds: number) =>
    `nothing answered at ${address} within ${seconds} s: no TCP connection could be made. Check the address, that the machine is on, and that no firewall blocks the port.`),
  JOIN_NOT_A_MANAGER: entry(false, (address: string) =>
    `${address} answered, but not as a Skep swarm manager (it does not speak Skep's TLS). Check that it is the manager's cluster address, as "skep swarm join-token" prints it.`),

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
