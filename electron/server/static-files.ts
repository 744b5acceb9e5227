// Serves the built renderer. Only files under its folder, never a path outside it.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface StaticFile {
  readonly filePath: string;
  readonly contentType: string;
  readonly size: number;
}

/** Resolves a URL path to a file under `root`; SPA routes fall back to index.html. */
export async function resolveStaticFile(root: string, urlPath: string): Promise<StaticFile | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const candidate = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
  if (candidate !== root && !candidate.startsWith(root + path.sep)) return undefined;
  for (const filePath of [candidate, path.join(root, 'index.html')]) {
    try {
      const info = await stat(filePath);
      if (!info.isFile()) continue;
      const contentType = CONTENT_TYPES[path.extname(filePath)] ?? 'application/octet-stream';
      return { filePath, contentType, size: info.size };
    } catch {
      // Not there: try the SPA fallback.
    }
  }
  return undefined;
}

export function openStaticFile(file: StaticFile): NodeJS.ReadableStream {
  return createReadStream(file.filePath);
}
