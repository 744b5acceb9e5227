// One SSH connection (ssh2, pure-JS paths only): log in with what the person gave, check the host
// key before anything is sent, run commands with stdin, copy files over SFTP. Every failure becomes
// a catalog error a person can act on; secrets are never part of one.
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, ClientChannel, ConnectConfig, SFTPWrapper } from 'ssh2';
import type { SkepError} from '../../shared/errors.js';
import { skepError } from '../../shared/errors.js';
import { formatMachineAddress, type MachineAuth, type MachineTarget } from '../../shared/provision.js';
import { hostKeyOf, type HostKey } from './host-keys.js';

const { Client, utils } = ssh2;

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin, then closed (sudo's password goes here, never in argv). */
  readonly stdin?: string;
  /** Each output line as it arrives, for the raw log. */
  readonly onLine?: (line: string) => void;
}

/** Thrown by a command whose connection went away: the caller names the step it was in. */
export class ConnectionLost extends Error {
  override readonly name = 'ConnectionLost';
}

export interface SshSession {
  readonly address: string;
  readonly hostKey: HostKey;
  exec(command: string, options?: ExecOptions): Promise<CommandResult>;
  writeFile(remotePath: string, data: Buffer | string, mode: number): Promise<void>;
  close(): void;
}

export interface ConnectOptions {
  readonly target: MachineTarget;
  readonly auth: MachineAuth;
  /** Decides about the host key before authentication; throws to refuse the server. */
  readonly verifyHostKey: (key: HostKey) => Promise<void>;
  readonly timeoutMs?: number;
}

/** The private key parsed up front, so "needs a passphrase" is told apart from "rejected". */
function parsedKey(auth: MachineAuth): ReturnType<typeof utils.parseKey> | undefined {
  if (auth.privateKey === undefined) return undefined;
  const parsed = utils.parseKey(auth.privateKey, auth.passphrase);
  if (parsed instanceof Error) {
    if (/no passphrase given/i.test(parsed.message)) throw skepError('SSH_KEY_NEEDS_PASSPHRASE');
    if (/decrypt|bad passphrase|integrity/i.test(parsed.message)) throw skepError('SSH_KEY_INVALID', 'the passphrase is wrong');
    throw skepError('SSH_KEY_INVALID', parsed.message);
  }
  return parsed;
}

function authMethods(target: MachineTarget, auth: MachineAuth): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [{ type: 'none', username: target.user }];
  const key = parsedKey(auth);
  if (key) methods.push({ type: 'publickey', username: target.user, key: Array.isArray(key) ? key[0] : key });
  if (auth.agentSocket) methods.push({ type: 'agent', username: target.user, agent: auth.agentSocket });
  if (auth.password !== undefined) {
    const password = auth.password;
    methods.push({ type: 'password', username: target.user, password });
    // Servers that take passwords only through PAM's prompts (keyboard-interactive).
    methods.push({ type: 'keyboard-interactive', username: target.user, prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)) });
  }
  return methods;
}

/** The server's name for the method each of ours uses. */
function serverMethodOf(method: AnyAuthMethod): AuthenticationType {
  return method.type === 'agent' ? 'publickey' : method.type;
}

function connectError(error: Error & { level?: string; code?: string }, target: MachineTarget, offered: readonly string[], timeoutMs: number): SkepError {
  const address = formatMachineAddress(target.host, target.port);
  if (error.level === 'client-authentication') return skepError('SSH_AUTH_REJECTED', target.user, address, offered.length ? offered.join(',') : 'no method offered');
  if (error.level === 'client-timeout' || error.code === 'ETIMEDOUT') return skepError('SSH_TIMEOUT', address, Math.round(timeoutMs / 1000));
  if (error.code === 'ECONNREFUSED') return skepError('SSH_REFUSED', address);
  if (error.code === 'EHOSTUNREACH' || error.code === 'ENETUNREACH') return skepError('SSH_UNREACHABLE', address, 'No route to host');
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') return skepError('SSH_UNREACHABLE', address, 'Name or service not known');
  if (error.code === 'ECONNRESET') return skepError('SSH_UNREACHABLE', address, 'Connection reset by peer');
  return skepError('SSH_UNREACHABLE', address, error.message);
}

export function connect(options: ConnectOptions): Promise<SshSession> {
  const { target, auth } = options;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const address = formatMachineAddress(target.host, target.port);
  const queue = authMethods(target, auth);
  let offered: string[] = [];
  let hostKeyRefusal: unknown;
  let hostKey: HostKey | undefined;
  const client = new Client();

  return new Promise<SshSession>((resolve, reject) => {
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout: timeoutMs,
      keepaliveInterval: 5000,
      keepaliveCountMax: 3,
      hostVerifier: (blob: Buffer, verify: (valid: boolean) => void) => {
        hostKey = hostKeyOf(blob);
        options.verifyHostKey(hostKey).then(
          () => verify(true),
          (error: unknown) => {
            hostKeyRefusal = error;
            verify(false);
          },
        );
      },
      authHandler: (methodsLeft, _partialSuccess, next) => {
        if (methodsLeft) offered = methodsLeft;
        for (;;) {
          const method = queue.shift();
          if (!method) return next(false as unknown as AuthenticationType);
          if (methodsLeft === null || methodsLeft.includes(serverMethodOf(method)) || method.type === 'none') return next(method);
        }
      },
    };
    client.once('ready', () => {
      if (!hostKey) return reject(skepError('SSH_UNREACHABLE', address, 'the server presented no host key'));
      resolve(session(client, address, hostKey));
    });
    client.once('error', (error: Error & { level?: string; code?: string }) => {
      client.end();
      if (hostKeyRefusal !== undefined) return reject(hostKeyRefusal);
      reject(connectError(error, target, offered, timeoutMs));
    });
    client.connect(config);
  });
}

/** Connects only far enough to see the host key (no login is attempted). */
export function peekHostKey(target: MachineTarget, timeoutMs = 15_000): Promise<HostKey> {
  const stop = new Error('host key seen');
  let seen: HostKey | undefined;
  return connect({
    target,
    auth: {},
    timeoutMs,
    verifyHostKey: async (key) => {
      seen = key;
      throw stop;
    },
  }).then(
    (opened) => {
      opened.close();
      throw skepError('SSH_UNREACHABLE', formatMachineAddress(target.host, target.port), 'the server skipped the key exchange');
    },
    (error: unknown) => {
      if (error === stop && seen) return seen;
      throw error;
    },
  );
}

function session(client: InstanceType<typeof Client>, address: string, hostKey: HostKey): SshSession {
  let closed = false;
  const onClosed = new Set<() => void>();
  client.on('close', () => {
    closed = true;
    for (const notify of onClosed) notify();
  });
  client.on('error', () => undefined);
  let sftp: Promise<SFTPWrapper> | undefined;

  const exec = (command: string, options: ExecOptions = {}): Promise<CommandResult> =>
    new Promise((resolve, reject) => {
      if (closed) return reject(new ConnectionLost(address));
      const lost = (): void => reject(new ConnectionLost(address));
      onClosed.add(lost);
      client.exec(command, (error: Error | undefined, channel: ClientChannel) => {
        if (error) {
          onClosed.delete(lost);
          return reject(closed ? new ConnectionLost(address) : error);
        }
        let stdout = '';
        let stderr = '';
        let partial = '';
        const lines = (chunk: string): void => {
          if (!options.onLine) return;
          partial += chunk;
          const complete = partial.split('\n');
          partial = complete.pop() ?? '';
          for (const line of complete) options.onLine(line);
        };
        channel.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8');
          lines(chunk.toString('utf8'));
        });
        channel.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString('utf8');
          lines(chunk.toString('utf8'));
        });
        let exitCode: number | null = null;
        channel.on('exit', (code: number | null) => (exitCode = code));
        channel.on('close', () => {
          onClosed.delete(lost);
          if (partial && options.onLine) options.onLine(partial);
          // A channel closed by a dying connection has no exit status: that is a lost connection.
          if (exitCode === null && closed) return reject(new ConnectionLost(address));
          resolve({ code: exitCode, stdout, stderr });
        });
        if (options.stdin !== undefined) channel.end(options.stdin);
        else channel.end();
      });
    });

  const openSftp = (): Promise<SFTPWrapper> => {
    sftp ??= new Promise((resolve, reject) => client.sftp((error: Error | undefined, wrapper: SFTPWrapper) => (error ? reject(error) : resolve(wrapper))));
    return sftp;
  };

  return {
    address,
    hostKey,
    exec,
    async writeFile(remotePath, data, mode) {
      if (closed) throw new ConnectionLost(address);
      const wrapper = await openSftp();
      await new Promise<void>((resolve, reject) => {
        const lost = (): void => reject(new ConnectionLost(address));
        onClosed.add(lost);
        wrapper.writeFile(remotePath, data, { mode }, (error: Error | null | undefined) => {
          onClosed.delete(lost);
          if (error) return reject(closed ? new ConnectionLost(address) : error);
          resolve();
        });
      });
    },
    close() {
      closed = true;
      client.end();
    },
  };
}
