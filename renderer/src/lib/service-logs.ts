// How the window reads a service's logs: one function, so a streaming API can replace the polling
// without the log viewer changing. Today the node answers `serviceLogs` with what the engines hold
// now; following is done by asking again for the lines since the last one seen.
import type { SkepApi } from '../../../shared/api.js';
import type { ServiceLogLine } from '../../../shared/services.js';

export interface LogRequest {
  readonly tail?: number;
  /** Unix time in seconds (Docker's `since`): lines from that second on. */
  readonly sinceSeconds?: number;
}

export type LogReader = (request: LogRequest) => Promise<ServiceLogLine[]>;

export function serviceLogReader(client: Pick<SkepApi, 'serviceLogs'>, service: string): LogReader {
  return (request) => client.serviceLogs(service, request);
}
