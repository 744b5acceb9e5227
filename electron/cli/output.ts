// How the CLI prints: tables with upper-case headers as Docker's, errors prefixed the same way
// every time, and one exit path.
import { SkepError } from '../../shared/errors.js';

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd((widths[column] ?? 0) + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

/** Daemon refusals read as Docker's ("Error response from daemon: …"); a dead daemon says so plainly. */
export function describeError(error: unknown): string {
  if (error instanceof SkepError) {
    if (error.code === 'DAEMON_UNREACHABLE' || error.code === 'CONTROL_SOCKET_UNSAFE') return error.message;
    return `Error response from daemon: ${error.message}`;
  }
  return `Error: ${error instanceof Error ? error.message : String(error)}`;
}
