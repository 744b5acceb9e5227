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
  // Docker prints "error during connect: …: EOF" when the daemon goes away mid-request; the outcome is then
  // unknown, and unlike "Cannot connect" nothing says the request was not carried out.
  OUTCOME_UNKNOWN: entry(false, (address: string) =>
    `error during connect: the Skep daemon at ${address} closed the connection before answering. The outcome of the request is unknown: it may or may not have been carried out. Check the current state before retrying.`),
  CONTROL_SOCKET_UNSAFE: entry(false, (socketPath: string, reason: string) =>
    `refusing to use the control socket ${socketPath}: ${reason}. Use a directory that only you can write (set XDG_RUNTIME_DIR, or pass another path with --control to the daemon and -H to the CLI).`),
  CONTROL_SOCKET_IN_USE: entry(false, (socketPath: string) =>
    `Another Skep daemon is already listening on ${socketPath}.`),

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

  // Trust between nodes (electron/protocol): who may call what.
  PERMISSION_DENIED: entry(false, (method: string, reason: string) =>
    `permission denied: ${method}: ${reason}`),
  NODE_REMOVED: entry(false, () =>
    'This node was removed from the swarm. Use "skep swarm leave --force" to clean up its swarm state, then join again with a new token.'),
  // Autolock (moby daemon/cluster/errors.go and swarm.go; docker/cli cli/command/swarm/unlock*.go).
  SWARM_LOCKED: entry(false, () =>
    'Swarm is encrypted and needs to be unlocked before it can be used. Please use "skep swarm unlock" to unlock it.'),
  SWARM_LOCKED_LEAVE: entry(true, () =>
    'Swarm is encrypted and locked. Please unlock it first or use `--force` to ignore this message.'),
  UNLOCK_INVALID_KEY: entry(false, () =>
    'swarm could not be unlocked: invalid key provided'),
  SWARM_NOT_LOCKED: entry(false, () =>
    'swarm is not locked'),
  UNLOCK_NOT_IN_SWARM: entry(false, () =>
    'error: this node is not part of a swarm'),
  UNLOCK_NOT_LOCKED: entry(false, () =>
    'error: swarm is not locked'),
  UNLOCK_ROTATE_NO_AUTOLOCK: entry(false, () =>
    'cannot rotate because autolock is not turned on'),
  NO_UNLOCK_KEY: entry(false, () =>
    'no unlock key is set'),
  BOOL_FLAG_VALUE: entry(false, (value: string, flag: string) =>
    `invalid argument "${value}" for "${flag}" flag: strconv.ParseBool: parsing "${value}": invalid syntax`),
  SWARM_FAILED: entry(false, (reason: string, remedy: string) =>
    `This node's swarm manager has stopped: ${reason}. ${remedy}`),
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

  // Addresses for init and join (moby daemon/cluster/listen_addr.go and docker/cli opts/hosts.go
  // where Docker has a text). Each carries details.field, so the window marks the field it is about.
  ADDR_PROTO: entry(false, (value: string) =>
    `invalid proto, expected tcp: ${value}`),
  ADDR_PORT_INVALID: entry(false, (value: string) =>
    `invalid port in address "${value}": a port is a whole number from 1 to 65535`),
  LISTEN_ADDR_INVALID: entry(false, () =>
    'listen address must be an IP address or network interface (with optional port number)'),
  ADVERTISE_ADDR_INVALID: entry(false, () =>
    'advertise address must be a non-zero IP address or network interface (with optional port number)'),
  REMOTE_ADDR_INVALID: entry(false, (value: string) =>
    `invalid remoteAddr "${value}": give the manager's address as HOST:PORT — an IP address or host name, and a port from 1 to 65535 (a swarm's default is 2377)`),
  INTERFACE_NO_ADDRESS: entry(false, (name: string) =>
    `interface ${name} has no usable IPv4 or IPv6 address`),
  INTERFACE_MANY_ADDRESSES: entry(false, (name: string, family: 'IPv4' | 'IPv6', first: string, second: string) =>
    `interface ${name} has more than one ${family} address (${first} and ${second})`),
  REMOVE_LAST_MANAGER: entry(false, (node: string) =>
    `node ${node} is the swarm's only manager, so it can't be demoted or removed. To end the swarm, run "skep swarm leave --force" on it; to keep the swarm, promote another node to manager first.`),

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
  // docker/cli cli/command/service/scale.go: a count that is not an unsigned integer, per service.
  SERVICE_SCALE_REPLICAS_INVALID: entry(false, (service: string, value: string) =>
    `${service}: invalid replicas value ${value}: strconv.ParseUint: parsing "${value}": invalid syntax`),
  SERVICE_SCALE_FAILED: entry(false, (errors: readonly string[]) =>
    errors.join('\n')),
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
  SERVICE_MODE_CHANGE: entry(false, () =>
    'service mode change is not allowed'),
  SERVICE_RENAME: entry(false, () =>
    'renaming services is not supported'),
  // Flag values as docker/cli and Go's parsers refuse them (the part after `invalid argument "V" for "--flag" flag: `).
  GO_DURATION_INVALID: entry(false, (value: string) =>
    `time: invalid duration "${value}"`),
  GO_DURATION_MISSING_UNIT: entry(false, (value: string) =>
    `time: missing unit in duration "${value}"`),
  GO_DURATION_UNKNOWN_UNIT: entry(false, (unit: string, value: string) =>
    `time: unknown unit "${unit}" in duration "${value}"`),
  DURATION_NEGATIVE: entry(false, () =>
    'duration cannot be negative'),
  GO_PARSE_NUMBER: entry(false, (parser: 'ParseUint' | 'ParseInt' | 'ParseFloat', value: string, reason: 'invalid syntax' | 'value out of range') =>
    `strconv.${parser}: parsing "${value}": ${reason}`),
  CPUS_NOT_RATIONAL: entry(false, (value: string) =>
    `failed to parse ${value} as a rational number`),
  CPUS_TOO_PRECISE: entry(false, () =>
    'value is too precise'),
  SIZE_INVALID: entry(false, (value: string) =>
    `invalid size: '${value}'`),
  ENV_INVALID: entry(false, (value: string) =>
    `invalid environment variable: ${value}`),
  LABEL_INVALID: entry(false, (value: string) =>
    `invalid label '${value}': empty name`),
  LABEL_WHITESPACE: entry(false, (key: string) =>
    `label '${key}' contains whitespaces`),
  MOUNT_OPTION_WHITESPACE: entry(false, (key: string, field: string) =>
    `invalid option '${key}' in '${field}': option should not have whitespace`),
  MOUNT_VALUE_WHITESPACE: entry(false, (key: string, field: string) =>
    `invalid value for '${key}' in '${field}': value should not have whitespace`),
  PLACEMENT_PREFERENCE_FORMAT: entry(false, () =>
    'placement preference must be of the format "<strategy>=<arg>"'),
  MOUNT_VALUE_EMPTY: entry(false, () =>
    'value is empty'),
  MOUNT_FIELD_NOT_PAIR: entry(false, (field: string) =>
    `invalid field '${field}' must be a key=value pair`),
  MOUNT_FIELD_VALUE_EMPTY: entry(false, (key: string) =>
    `invalid value for '${key}': value is empty`),
  MOUNT_OPTION_UNKNOWN: entry(false, (key: string, field: string) =>
    `unknown option '${key}' in '${field}'`),
  MOUNT_BOOL_INVALID: entry(false, (key: string, value: string) =>
    `invalid value for '${key}': invalid boolean value ("${value}"): must be one of "true", "1", "false", or "0" (default "true")`),
  MOUNT_TYPE_REQUIRED: entry(false, () =>
    'type is required'),
  MOUNT_TYPE_INVALID: entry(false, (type: string) =>
    `invalid MountType: "${type}"`),
  MOUNT_TYPE_UNSUPPORTED: entry(false, (type: string) =>
    `mount type "${type}" is not supported by Skep: use type=bind or type=volume`),
  MOUNT_DUPLICATE_TARGET: entry(false, () =>
    'duplicate mount target'),
  HEALTHCHECK_CONFLICT: entry(false, () =>
    '--no-healthcheck conflicts with --health-* options'),
  SERVICE_MODE_UNKNOWN: entry(false, (mode: string) =>
    `unknown mode: ${mode}, only replicated and global supported`),
  SERVICE_REPLICAS_GLOBAL: entry(false, () =>
    'replicas can only be used with replicated or replicated-job mode'),
  SERVICE_UPDATE_REPLICAS_GLOBAL: entry(false, () =>
    'replicas can only be used with replicated mode'),
  SERVICE_ROLLBACK_WITH_FLAGS: entry(false, () =>
    'other flags may not be combined with --rollback'),
  UPDATE_FAILURE_ACTION_INVALID: entry(false, (action: string) =>
    `unrecognized update failure action ${action}`),
  UPDATE_ORDER_INVALID: entry(false, (order: string) =>
    `unrecognized update order ${order}`),
  RESTART_CONDITION_INVALID: entry(false, (condition: string) =>
    `invalid RestartCondition: "${condition}"`),
  LOGS_TAIL_INVALID: entry(false, (value: string) =>
    `invalid value for "tail": ${value}`),
  PORT_FIELD_INVALID: entry(false, (field: string) =>
    `invalid field: ${field}`),
  PORT_FIELD_KEY_INVALID: entry(false, (key: string) =>
    `invalid field key: ${key}`),
  PORT_PROTOCOL_INVALID: entry(false, (value: string) =>
    `invalid protocol value '${value}'`),
  PORT_MODE_INVALID: entry(false, (value: string) =>
    `invalid publish mode value (${value}): must be either 'ingress' or 'host'`),
  PORT_MODE_INGRESS: entry(false, () =>
    "invalid publish mode value (ingress): Skep publishes ports in host mode only (mode=host)"),
  PORT_NUMBER_INVALID: entry(false, (field: 'target' | 'published', value: string, reason: 'invalid syntax' | 'value out of range') =>
    `invalid ${field} port (${value}): value must be an integer: ${reason}`),
  PORT_TARGET_MISSING: entry(false, () =>
    "missing mandatory field 'target'"),
  PORT_SPEC_INVALID: entry(false, (value: string) =>
    `invalid containerPort: ${value}`),
  // Adding machines over SSH (texts as OpenSSH's where it has one).
  SSH_UNREACHABLE: entry(false, (address: string, reason: string) =>
    `ssh: connect to host ${address}: ${reason}`),
  SSH_REFUSED: entry(false, (address: string) =>
    `ssh: connect to host ${address}: Connection refused. Is the SSH server running on that port?`),
  SSH_TIMEOUT: entry(false, (address: string, seconds: number) =>
    `ssh: connect to host ${address}: Connection timed out after ${seconds} s. Is the machine on and on this network?`),
  SSH_AUTH_REJECTED: entry(false, (user: string, address: string, offered: string) =>
    `${user}@${address}: Permission denied (${offered}). Check the user name and the password or key.`),
  SSH_KEY_NEEDS_PASSPHRASE: entry(false, () =>
    'the private key is encrypted: give its passphrase'),
  SSH_KEY_INVALID: entry(false, (reason: string) =>
    `the private key can't be read: ${reason}`),
  SSH_HOST_KEY_UNKNOWN: entry(false, (address: string, keyType: string, fingerprint: string) =>
    `The authenticity of host '${address}' can't be established. ${keyType} key fingerprint is ${fingerprint}. Compare it with the machine's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then trust it (skep machine add --accept-host-key ${fingerprint}).`),
  SSH_HOST_KEY_CHANGED: entry(false, (address: string, pinned: string, presented: string) =>
    `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! The host key of ${address} is ${presented}, but Skep pinned ${pinned}. Someone could be eavesdropping on you right now, or the machine was reinstalled. If it was reinstalled, trust the new key (skep machine add --replace-host-key ${presented}).`),
  SSH_CONNECTION_LOST: entry(false, (address: string, during: string) =>
    `the SSH connection to ${address} was lost during ${during}. Nothing half-done is left running; run the same command again to finish.`),
  PROVISION_UNSUPPORTED: entry(false, (reason: string) =>
    `this machine can't run Skep: ${reason}. Nothing was changed.`),
  PROVISION_NO_SUDO: entry(false, (user: string, sudoersLine: string) =>
    `${user} can't run commands as root (no sudo). Log in as root, or add this line with "visudo -f /etc/sudoers.d/skep" as root: ${sudoersLine}`),
  PROVISION_SUDO_PASSWORD_NEEDED: entry(false, (user: string) =>
    `sudo asks ${user} for a password: give it (--sudo-password-stdin) and Skep passes it to sudo on stdin, once.`),
  PROVISION_SUDO_PASSWORD_WRONG: entry(false, (user: string) =>
    `sudo refused the password given for ${user}.`),
  PROVISION_NEEDS_CONSENT: entry(false, (what: string) =>
    `${what} is missing. Skep installs it from the distribution's packages only when you agree (--yes).`),
  PROVISION_STEP_FAILED: entry(false, (step: string, reason: string) =>
    `${step} failed: ${reason}`),
  PROVISION_BUNDLE_CORRUPT: entry(false, (expected: string, actual: string) =>
    `the agent copied to the machine is damaged (sha256 ${actual}, expected ${expected}); run the same command again.`),
  PROVISION_BUNDLE_MISSING: entry(false, (path: string) =>
    `the Skep agent bundle ${path} is missing on this machine; build it (npm run build) or reinstall Skep.`),
  PROVISION_BUSY: entry(false, (address: string) =>
    `${address} is already being set up by another request; wait for it to finish.`),
  MACHINE_NOT_FOUND: entry(false, (host: string) =>
    `machine ${host} was not added with Skep (see "skep machine ls").`),
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
