export const AGENT_BUNDLE_NAME: 'skep-agent.mjs';
export const AGENT_MANIFEST_NAME: 'manifest.json';
export interface AgentManifest {
  readonly version: string;
  readonly sha256: string;
  readonly bytes: number;
}
export function writeAgentBundle(options: { cliBundle: string; agentDir: string; version: string }): Promise<AgentManifest>;
