// The overview with a real Docker Engine beside it: its version comes from the engine itself.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { probeEngine } from '../../electron/agent/engine.js';
import { launchChromium, type LaunchedBrowser } from '../support/chromium.js';
import { dockerdUnavailableReason, startDockerd, type TestEngine } from '../support/dockerd.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const skipReason = dockerdUnavailableReason();
if (skipReason) console.log(`[browser-mode-engine] skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('browser mode with a real Docker Engine', () => {
  let workDir: string;
  let engine: TestEngine;
  let ui: Started;
  let browser: LaunchedBrowser;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'skep-e2e-engine-'));
    engine = await startDockerd(workDir);
    ui = startProcess(process.execPath, [path.join(root, 'out/cli/skep.mjs'), 'ui'], {
      env: { ...process.env, SKEP_DATA_DIR: path.join(workDir, 'data'), DOCKER_HOST: engine.host },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
    await engine?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  it("probes the engine's real version", async () => {
    const expected = await new Docker({ socketPath: engine.host.slice('unix://'.length) }).version();
    const status = await probeEngine({ host: engine.host });
    expect(status).toMatchObject({ available: true, version: expected.Version, apiVersion: expected.ApiVersion });
  });

  it('shows the engine and its version on the page', async () => {
    const expected = await new Docker({ socketPath: engine.host.slice('unix://'.length) }).version();
    const url = (await waitForOutput(ui, /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/))[0];
    const page = await browser.browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(url);
    await page.getByTestId('fact-engine').waitFor();
    expect(await page.getByTestId('fact-engine').textContent()).toContain(`Docker Engine ${expected.Version} (API ${expected.ApiVersion})`);
    await page.screenshot({ path: path.join(root, 'test-results', 'browser-mode-overview-engine.png'), fullPage: true });
  });
});
