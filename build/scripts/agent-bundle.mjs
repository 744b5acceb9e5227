// The agent bundle the app ships (electron-builder's extraResources copies out/agent into the
// app's resources): the Node-18 CLI/agent bundle under the name the SSH wizard copies to a
// machine, and a manifest whose sha256 the wizard can check the copy against, so adding a
// machine works offline and a damaged bundle is caught before it runs.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const AGENT_BUNDLE_NAME = 'skep-agent.mjs';
export const AGENT_MANIFEST_NAME = 'manifest.json';

/**
 * Copies `cliBundle` to `agentDir/skep-agent.mjs` and writes `agentDir/manifest.json` with
 * {version, sha256, bytes} of the bytes actually written. The manifest is renamed into place
 * last, so a reader never sees a manifest that describes another copy.
 * @param {{ cliBundle: string, agentDir: string, version: string }} options
 * @returns {Promise<{ version: string, sha256: string, bytes: number }>}
 */
export async function writeAgentBundle({ cliBundle, agentDir, version }) {
  await mkdir(agentDir, { recursive: true });
  const bundlePath = path.join(agentDir, AGENT_BUNDLE_NAME);
  await copyFile(cliBundle, bundlePath);
  const contents = await readFile(bundlePath);
  const manifest = { version, sha256: createHash('sha256').update(contents).digest('hex'), bytes: contents.length };
  const manifestPath = path.join(agentDir, AGENT_MANIFEST_NAME);
  await writeFile(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${manifestPath}.tmp`, manifestPath);
  return manifest;
}
