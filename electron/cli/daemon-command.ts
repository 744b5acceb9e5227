// `skep daemon`: one node, headless — the agent always, Raft and the store when it is a manager.
import { defaultControlAddress, defaultDataDir, ensureDataDir } from '../agent/data-dir.js';
import type { Logger } from '../net/index.js';
import { startControlServer } from '../server/control-socket.js';
import { SkepDaemon } from '../node/daemon.js';

export interface DaemonCommandOptions {
  readonly dataDir?: string;
  readonly control?: string;
  readonly debug?: boolean;
  readonly tickMs?: number;
  readonly heartbeatMs?: number;
}

/** Structured log lines on stderr: time, level, message, fields. Never secrets (callers don't pass them). */
function stderrLogger(debug: boolean): Logger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    process.stderr.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}${fields ? ' ' + JSON.stringify(fields) : ''}\n`);
  };
  return { debug: debug ? write('debug') : () => undefined, info: write('info'), warn: write('warn'), error: write('error') };
}

export async function runDaemon(options: DaemonCommandOptions): Promise<void> {
  const dataDir = await ensureDataDir(options.dataDir ?? defaultDataDir());
  const control = options.control ?? defaultControlAddress();
  const logger = stderrLogger(options.debug ?? false);
  const daemon = new SkepDaemon({
    dataDir,
    logger,
    ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
    ...(options.heartbeatMs !== undefined ? { heartbeatPeriodMs: options.heartbeatMs } : {}),
  });
  await daemon.start();
  const server = await startControlServer(control, daemon);
  logger.info('skep daemon is running', { dataDir, control });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('skep daemon is stopping', { signal });
    void Promise.all([server.close(), daemon.stop()]).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('skep daemon did not stop cleanly', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
