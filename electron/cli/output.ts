// How the CLI prints: errors prefixed the same way every time, and one exit path.
import { skepError, SkepError, type ErrorCode } from '../../shared/errors.js';

/** A plain table in Docker's layout (columns three spaces apart), for listings without --format. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd((widths[column] ?? 0) + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** Refusals the command line makes itself; Docker prints those without "Error response from daemon". */
const clientSideErrors = new WeakSet<SkepError>();

/** An error the CLI found itself (a check shared with the daemon), printed without the daemon's prefix. */
export function clientSide(error: SkepError): SkepError {
  clientSideErrors.add(error);
  return error;
}

/** The catalog's error, raised by the CLI itself (not by the daemon). */
export function cliError<C extends ErrorCode>(code: C, ...args: Parameters<typeof skepError<C>> extends [C, ...infer A] ? A : never): SkepError {
  const error = (skepError as (code: C, ...rest: unknown[]) => SkepError)(code, ...args);
  clientSideErrors.add(error);
  return error;
}

/**
 * Refusals Docker's CLI makes on its own side although Skep's daemon makes them (docker/cli
 * cli/command/node/update.go checks --label-rm against the node it inspected).
 */
const DOCKER_CLIENT_SIDE: ReadonlySet<ErrorCode> = new Set(['DAEMON_UNREACHABLE', 'OUTCOME_UNKNOWN', 'LABEL_NOT_FOUND', 'LABEL_EMPTY_KEY']);

/** Daemon refusals read as Docker's ("Error response from daemon: …"); a dead daemon says so plainly. */
export function describeError(error: unknown): string {
  if (error instanceof SkepError) {
    if (DOCKER_CLIENT_SIDE.has(error.code) || clientSideErrors.has(error) || error.code === 'DAEMON_UNREACHABLE' || error.code === 'CONTROL_SOCKET_UNSAFE') return error.message;
    return `Error response from daemon: ${error.message}`;
  }
  return `Error: ${error instanceof Error ? error.message : String(error)}`;
}
