// The Services page end to end: the real CLI bundle serves the real renderer in browser mode, its
// embedded node runs tasks on a real Docker Engine of this file's own (busybox imported, no registry),
// and Chromium drives the page: start a swarm, create a service from the form (a refusal shown next
// to its field first), see it run and log, scale it, remove it through the dialog. What the page
// says is checked against what the engine really runs. Screenshots go to test-results/.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skepError } from '../../shared/errors.js';
import { busyboxUnavailableReason, importBusyboxImage } from '../support/busybox-image.js';
import { launchChromium, type LaunchedBrowser } from '../support/chromium.js';
import { dockerdUnavailableReason, startDockerd, type TestEngine } from '../support/dockerd.js';
import { startProcess, waitForOutput, type Started } from '../support/processes.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const screenshots = path.join(root, 'test-results');
const IMAGE = 'skep-e2e/busybox:1';
// A loopback address of its own: other suites' nodes use 127.0.0.60–64.
const LISTEN = '127.0.0.87:2377';
const SERVICE = `svcui${process.pid}`;
const skipReason = dockerdUnavailableReason() ?? busyboxUnavailableReason();
if (skipReason) console.log(`[e2e/services-ui] skipped: ${skipReason}`);

/** Polls `probe` until it returns a value; fails with what it last saw, never on a duration alone. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.skipIf(skipReason !== undefined)('the Services page on a real Docker Engine', () => {
  let workDir: string;
  let engine: TestEngine;
  let docker: Docker;
  let ui: Started;
  let browser: LaunchedBrowser;
  let page: Page;

  /** The service's containers as the engine lists them. */
  async function running(): Promise<string[]> {
    const list = await docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${SERVICE}`] } });
    return list.map((c) => c.Labels['com.docker.swarm.task.id'] ?? '');
  }

  async function all(): Promise<number> {
    return (await docker.listContainers({ all: true, filters: { label: [`com.docker.swarm.service.name=${SERVICE}`] } })).length;
  }

  const text = async (testId: string): Promise<string> => ((await page.getByTestId(testId).first().textContent()) ?? '').trim();
  const row = () => page.locator(`[data-testid="service-row"][data-service="${SERVICE}"]`);
  const shoot = (name: string) => page.screenshot({ path: path.join(screenshots, `services-${name}.png`), fullPage: (name !== 'remove-dialog') });

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'skep-e2e-services-'));
    await mkdir(screenshots, { recursive: true });
    engine = await startDockerd(workDir);
    docker = new Docker({ socketPath: engine.host.slice('unix://'.length) });
    await importBusyboxImage(docker, workDir, IMAGE);
    ui = startProcess(process.execPath, [path.join(root, 'out/cli/skep.mjs'), 'ui', '--port', '0'], {
      env: { ...process.env, SKEP_DATA_DIR: path.join(workDir, 'data'), DOCKER_HOST: engine.host },
    });
    const url = (await waitForOutput(ui, /http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/))[0];
    browser = await launchChromium();
    page = await browser.browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(url);
  });

  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
    await engine?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('creates a service from the form, shows it running with its logs, scales it and removes it through the dialog', async () => {
    // A swarm first, started from the page.
    await page.getByTestId('nav-swarm').click();
    await page.getByTestId('init-listen').fill(LISTEN);
    await page.getByTestId('init-advertise').fill(LISTEN);
    await page.getByTestId('init-submit').click();
    await page.getByTestId('swarm-role').waitFor();
    expect(await text('swarm-role')).toBe('manager');

    await page.getByTestId('nav-services').click();
    await page.getByTestId('services-empty').waitFor();
    await shoot('empty');

    // The node refuses a bad name; the form says so next to the name, in the catalog's words.
    await page.getByTestId('service-create-open').click();
    await page.getByTestId('form-name').fill(`${SERVICE} web`);
    await page.getByTestId('form-image').fill(IMAGE);
    await page.getByTestId('form-command').fill(`sh -c "trap 'exit 0' TERM; while true; do echo hello from \\$(hostname); sleep 1; done"`);
    await page.getByTestId('form-replicas').fill('2');
    await page.getByTestId('form-submit').click();
    await page.getByTestId('error-name').waitFor();
    expect(await text('error-name')).toBe(`✕ ${skepError('SERVICE_NAME_INVALID').message}`);
    expect(await page.getByTestId('form-name').getAttribute('aria-invalid')).toBe('true');
    await shoot('form-error');
    expect(await all()).toBe(0);

    await page.getByTestId('form-name').fill(SERVICE);
    await page.getByTestId('form-submit').click();
    await page.getByTestId('service-detail').waitFor();

    // Running: the page says converged 2/2 and the engine runs exactly the two tasks the page lists.
    await until('2/2 converged on the page', async () => ((await row().getAttribute('data-state')) === 'converged' && (await row().getByTestId('service-replicas').textContent()) === '2/2' ? true : undefined));
    const shownTasks = await page.locator('[data-testid="task-row"][data-history="false"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task-id')));
    expect((await running()).sort()).toEqual([...shownTasks].sort());
    expect(await page.locator('[data-testid="task-row"] [data-testid="task-state"]').allTextContents()).toEqual([expect.stringMatching(/^Running /), expect.stringMatching(/^Running /)]);

    // The log viewer follows both tasks' lines, with Docker's prefix.
    const line = await until('a log line from each task', async () => {
      const lines = await page.getByTestId('log-line').allTextContents();
      const slots = new Set(lines.map((l) => /^[\w-]+\.(\d+)\./.exec(l)?.[1]));
      return slots.has('1') && slots.has('2') ? lines[0] : undefined;
    });
    expect(line).toMatch(new RegExp(`^${SERVICE}\\.[12]\\.[0-9a-z]{12}@\\S+    \\| hello from [0-9a-f]{12}$`));
    await shoot('running');

    // Update the image: the rolling update shows its progress while it runs, then every slot runs
    // the new image on the engine, and the replaced tasks stay below as history.
    await docker.getImage(IMAGE).tag({ repo: IMAGE.split(':')[0]!, tag: '2' });
    const IMAGE2 = `${IMAGE.split(':')[0]!}:2`;
    await page.getByTestId('update-image').fill(IMAGE2);
    await page.getByTestId('update-image-submit').click();
    await page.getByTestId('service-progress').waitFor();
    expect(await text('progress-overall')).toMatch(/^overall progress: [0-2] out of 2 tasks$/);
    expect(await text('detail-state')).toMatch(/^(Updating|Converging)/);
    await shoot('updating');
    await until('2/2 converged on the new image', async () => ((await row().getAttribute('data-state')) === 'converged' && (await text('detail-replicas')) === '2/2' && (await page.getByTestId('service-progress').count()) === 0 ? true : undefined), 90_000);
    const images = (await docker.listContainers({ filters: { label: [`com.docker.swarm.service.name=${SERVICE}`] } })).map((c) => c.Image);
    expect(images).toEqual([IMAGE2, IMAGE2]);
    const names = await page.getByTestId('task-name').allTextContents();
    expect(names.filter((n) => n.startsWith(' \\_ '))).toHaveLength(2);

    // Scale to 3: a third task runs on the engine, and the page shows 3/3.
    await page.getByTestId('scale-replicas').fill('3');
    await page.getByTestId('scale-submit').click();
    await until('3/3 converged on the page', async () => ((await row().getByTestId('service-replicas').textContent()) === '3/3' && (await row().getAttribute('data-state')) === 'converged' ? true : undefined));
    await until('three containers on the engine', async () => ((await running()).length === 3 ? true : undefined));
    await until('ages that tick with the clock', async () => ((await page.locator('[data-testid="task-row"] [data-testid="task-state"]').first().textContent())?.match(/^Running \d+ seconds ago$/) ? true : undefined));
    await shoot('scaled');

    // The node table and the Raft ring count the tasks this node runs.
    await page.getByTestId('nav-nodes').click();
    await until('3 tasks in the node row', async () => ((await text('node-tasks-count')) === '3' ? true : undefined));
    await page.getByTestId('nav-overview').click();
    await until('3 tasks on the ring', async () => ((await text('ring-member')).includes('runs 3 tasks') ? true : undefined));
    await page.getByTestId('nav-services').click();
    await page.getByRole('button', { name: `Details of service ${SERVICE}` }).click();

    // Remove: the dialog says what will be lost; confirming removes the service and its containers.
    await page.getByTestId('service-remove').click();
    const dialog = page.getByTestId('dialog-service-remove');
    await dialog.waitFor();
    expect(await text('dialog-message')).toMatch(new RegExp(`^! Removing ${SERVICE} stops and removes its 3 running containers on \\S+\\. Their logs and anything they wrote outside a volume or bind mount are lost\\.$`));
    await shoot('remove-dialog');
    await page.getByTestId('dialog-confirm').click();
    await page.getByTestId('services-empty').waitFor();
    expect(await text('services-notice')).toBe(`✓ Service ${SERVICE} removed.`);
    await until('no container of the service left on the engine', async () => ((await all()) === 0 ? true : undefined));
  });
});
