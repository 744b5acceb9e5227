// The WebSocket framing of the API (browser mode). Electron IPC carries the same Reply shape.
import type { Reply, SkepEvent } from './api.js';

export interface RequestFrame {
  readonly id: number;
  readonly method: string;
  readonly params: readonly unknown[];
}

/** `id` is null when the request was too broken to have one (malformed JSON, missing id). */
export type ReplyFrame = { readonly id: number | null } & Reply;

export interface EventFrame {
  readonly event: SkepEvent;
}

export type ServerFrame = ReplyFrame | EventFrame;

export function isEventFrame(frame: ServerFrame | ChunkFrame): frame is EventFrame {
  return 'event' in frame;
}

/** One part of a streaming call's answer (shared/api.ts SkepStreams); its reply frame ends it. Control socket only. */
export interface ChunkFrame {
  readonly id: number;
  readonly chunk: unknown;
}

/** What the control socket sends: the WebSocket's frames plus streaming calls' chunks. */
export type ControlFrame = ServerFrame | ChunkFrame;

export function isChunkFrame(frame: ControlFrame): frame is ChunkFrame {
  return 'chunk' in frame;
}
