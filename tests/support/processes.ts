// Child processes a test starts and must stop: by their own pid, never by name.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startProcess(command: string, args: readonly string[], options: SpawnOptions = {}): Started {
  const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Resolves with the first match of `pattern` in the process's output, or rejects on exit/timeout. */
export function waitForOutput(started: Started, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const match = started.output().match(pattern);
      if (match) {
        cleanup();
        resolve(match);
        return true;
      }
      return false;
    };
    const onData = (): void => void check();
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`process exited (${code}) before printing ${pattern}:\n${started.output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${pattern}:\n${started.output()}`));
    }, timeoutMs);
    function cleanup(): void {
      clearTimeout(timer);
      started.child.stdout?.off('data', onData);
      started.child.stderr?.off('data', onData);
      started.child.off('exit', onExit);
    }
    if (check()) return;
    started.child.stdout?.on('data', onData);
    started.child.stderr?.on('data', onData);
    started.child.once('exit', onExit);
  });
}
