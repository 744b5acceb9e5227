// Domain types every side shares. Plain data only: they cross IPC, WebSocket and the control socket.

export interface OperatingSystem {
  /** Node's platform name: linux, darwin, win32, … */
  readonly platform: string;
  /** A person's name for it, e.g. "Debian GNU/Linux 12 (bookworm)" or "macOS 15.1". */
  readonly name: string;
  readonly version: string;
  readonly kernel: string;
}

export type EngineStatus =
  | { readonly available: true; readonly version: string; readonly apiVersion: string; readonly os: string; readonly arch: string; readonly endpoint: string }
  | { readonly available: false; readonly endpoint: string; readonly reason: string };

export interface SystemInfo {
  readonly hostname: string;
  readonly os: OperatingSystem;
  /** Docker's spelling of the architecture: x86_64, aarch64, armv7l, … */
  readonly architecture: string;
  readonly cpuCount: number;
  readonly memoryBytes: number;
  readonly dataDir: string;
  readonly engine: EngineStatus;
  readonly skepVersion: string;
  readonly nodeVersion: string;
}

export type SwarmStatus =
  | { readonly state: 'inactive' }
  | {
      readonly state: 'active';
      readonly nodeId: string;
      readonly role: 'manager' | 'worker';
    };
