// Adding machines over SSH: the data that crosses the API between the wizard (or the CLI) and the
// node that does the SSH work. Secrets travel only inside MachineRequest and never come back out.
import type { NodeRole } from './types.js';

/** USER@HOST[:PORT] */
export interface MachineTarget {
  readonly user: string;
  readonly host: string;
  readonly port: number;
}

/** How to log in. Exactly what the person gave; none of it is stored or echoed. */
export interface MachineAuth {
  readonly password?: string;
  /** The private key's text (OpenSSH or PEM), not a path: the node may run as another user. */
  readonly privateKey?: string;
  readonly passphrase?: string;
  /** An ssh-agent socket path (SSH_AUTH_SOCK). */
  readonly agentSocket?: string;
}

export interface MachineRequest {
  readonly target: MachineTarget;
  readonly auth: MachineAuth;
  /** Given once to `sudo -S` on stdin when the user's sudo asks for a password. */
  readonly sudoPassword?: string;
  /** Trust this host key on first use (the fingerprint the person saw, `SHA256:…`). */
  readonly acceptHostKey?: string;
  /** The machine was reinstalled: replace the pinned key with this one (`SHA256:…`). */
  readonly replaceHostKey?: string;
  readonly role?: NodeRole;
  /** Consent to install missing Node.js from the distribution's packages. */
  readonly installMissing?: boolean;
  /** Chosen by the caller so it can pick its progress events out of the stream. */
  readonly operationId?: string;
}

export type HostKeyStatus = 'new' | 'trusted' | 'changed';

export interface HostKeyReport {
  /** HOST:PORT as pinned. */
  readonly address: string;
  /** OpenSSH's name for the key type: ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, … */
  readonly keyType: string;
  /** OpenSSH's form: `SHA256:` + unpadded base64 of the key blob's SHA-256. */
  readonly fingerprint: string;
  readonly status: HostKeyStatus;
  /** When status is 'changed': the fingerprint pinned before. */
  readonly pinnedFingerprint?: string;
}

export type SudoMode = 'root' | 'nopasswd' | 'password' | 'none';

/** What the machine is, read without changing anything. */
export interface MachineFacts {
  readonly hostname: string;
  readonly os: { readonly id: string; readonly idLike: string; readonly name: string; readonly version: string };
  readonly architecture: string;
  readonly kernel: string;
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly diskFreeBytes: number;
  readonly init: 'systemd' | 'other';
  readonly user: string;
  readonly sudo: SudoMode;
  readonly docker: { readonly present: boolean; readonly version: string; readonly snap: boolean; readonly reachable: boolean };
  readonly node: { readonly path: string; readonly version: string };
  readonly cgroupMemory: boolean;
  /** The machine's clock minus this one's, in milliseconds (round trip halved). */
  readonly clockOffsetMs: number;
  readonly skep: {
    readonly installedVersion: string;
    readonly bundleSha256: string;
    readonly running: boolean;
    /** Read with root rights; '' when not in a swarm or not known (no sudo password given yet). */
    readonly nodeId: string;
    readonly clusterId: string;
    readonly known: boolean;
  };
  /** Whether the machine reached the manager's cluster address; null when it could not be tried. */
  readonly reachesManager: boolean | null;
}

export type PlanStepId =
  | 'install-node'
  | 'install-docker'
  | 'copy-bundle'
  | 'install-service'
  | 'start-agent'
  | 'join'
  | 'restart-agent';

export interface PlanStep {
  readonly id: PlanStepId;
  readonly title: string;
  readonly why: string;
}

export interface InstallPlan {
  /** Set when the machine can't be added as it is: nothing will be changed. */
  readonly stop?: { readonly code: string; readonly message: string };
  readonly steps: readonly PlanStep[];
  /** Said before anything runs: what Skep leaves alone, and warnings. */
  readonly notes: readonly string[];
  /** True when the machine is already a node of this swarm with this version: nothing to do. */
  readonly upToDate: boolean;
}

export interface MachineCheckResult {
  readonly hostKey: HostKeyReport;
  readonly facts: MachineFacts;
  readonly plan: InstallPlan;
}

export interface MachineAddResult {
  readonly nodeId: string;
  readonly role: NodeRole;
  /** False when a rerun found everything in place. */
  readonly changed: boolean;
  readonly stepsRun: readonly PlanStepId[];
}

export interface MachineRecord {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly role: NodeRole;
  readonly nodeId: string;
  readonly addedAt: string;
  readonly hostname: string;
  readonly os: string;
  readonly architecture: string;
}

export interface MachineRemoveResult {
  readonly removed: readonly string[];
  /** What Skep did not touch (Docker Engine, Node.js) or could not remove. */
  readonly left: readonly string[];
}

/** The wizard's stepper: the phases every add goes through. */
export type ProvisionPhase = 'connect' | 'trust' | 'facts' | 'plan' | 'install' | 'joined' | 'remove';
export type ProvisionStepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface ProvisionProgress {
  readonly operationId: string;
  readonly host: string;
  readonly phase: ProvisionPhase;
  /** An install step within the install phase. */
  readonly step?: PlanStepId;
  readonly state: ProvisionStepState;
  /** A person's sentence: what is happening, or why it failed. */
  readonly message: string;
  /** Raw output lines of the remote command, for the collapsible log (never secrets). */
  readonly log?: string;
  readonly at: string;
}

/** Parses USER@HOST[:PORT] (and USER@[v6]:PORT); null when it is not one. */
export function parseMachineTarget(text: string): MachineTarget | null {
  const match = /^([A-Za-z0-9._][A-Za-z0-9._-]{0,31})@(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(text.trim());
  if (!match) return null;
  const port = match[3] === undefined ? 22 : Number(match[3]);
  if (port < 1 || port > 65535) return null;
  return { user: match[1] ?? '', host: (match[2] ?? '').replace(/^\[|\]$/g, ''), port };
}

export function formatMachineAddress(host: string, port: number): string {
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return port === 22 ? bracketed : `${bracketed}:${port}`;
}
