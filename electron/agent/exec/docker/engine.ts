// The local Docker Engine, through dockerode: how to reach it, and whether it is there.
import Docker from 'dockerode';
import type { EngineStatus } from '../../../../shared/types.js';

export interface EngineOptions {
  /** DOCKER_HOST-style address; defaults to DOCKER_HOST or the platform's default socket. */
  readonly host?: string;
  readonly timeoutMs?: number;
}

export function defaultEndpoint(): string {
  if (process.env['DOCKER_HOST']) return process.env['DOCKER_HOST'];
  return process.platform === 'win32' ? 'npipe:////./pipe/docker_engine' : 'unix:///var/run/docker.sock';
}

/** A client for a DOCKER_HOST-style address; without `timeoutMs`, long requests (wait, logs -f, events) may last. */
export function dockerFor(endpoint: string, timeoutMs?: number): Docker {
  const timeout = timeoutMs === undefined ? {} : { timeout: timeoutMs };
  if (endpoint.startsWith('unix://')) return new Docker({ socketPath: endpoint.slice('unix://'.length), ...timeout });
  if (endpoint.startsWith('npipe://')) return new Docker({ socketPath: endpoint.slice('npipe://'.length), ...timeout });
  const url = new URL(endpoint.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http', ...timeout });
}

function describeFailure(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  if (code === 'ENOENT') return 'no Docker Engine found (the socket does not exist)';
  if (code === 'ECONNREFUSED') return 'no Docker Engine found (nothing is listening on the socket)';
  if (code === 'EACCES') return 'a Docker Engine is there, but this user may not use its socket (add the user to the "docker" group)';
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return 'the Docker Engine did not answer in time';
  const message = error instanceof Error ? error.message : String(error);
  return `no Docker Engine found (${message})`;
}

/** Bounds on what a node reports of its engine's labels (they travel in every heartbeat). */
export const MAX_ENGINE_LABELS = 64;
export const MAX_ENGINE_LABEL_CHARS = 1024;

/** The engine's `Labels` from /info ("key=value" strings, as `dockerd --label` sets them) as a map; a bare key is an empty value. */
export function engineLabelsFrom(labels: readonly string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const label of (labels ?? []).slice(0, MAX_ENGINE_LABELS)) {
    const at = label.indexOf('=');
    const key = (at < 0 ? label : label.slice(0, at)).slice(0, MAX_ENGINE_LABEL_CHARS);
    if (key !== '') out[key] = at < 0 ? '' : label.slice(at + 1, at + 1 + MAX_ENGINE_LABEL_CHARS);
  }
  return out;
}

/** Pings the engine and reads its version; never throws — "no engine" is a normal state. */
export async function probeEngine(options: EngineOptions = {}): Promise<EngineStatus> {
  const endpoint = options.host ?? defaultEndpoint();
  try {
    const docker = dockerFor(endpoint, options.timeoutMs ?? 3000);
    await docker.ping();
    const [version, info] = await Promise.all([docker.version(), docker.info() as Promise<{ Labels?: string[] | null }>]);
    return {
      available: true,
      endpoint,
      version: version.Version,
      apiVersion: version.ApiVersion,
      os: version.Os,
      arch: version.Arch,
      labels: engineLabelsFrom(info.Labels),
    };
  } catch (error) {
    return { available: false, endpoint, reason: describeFailure(error) };
  }
}
