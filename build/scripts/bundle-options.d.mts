import type { BuildOptions, Plugin } from 'esbuild';
export const requireShim: string;
export const EAGER_SUFFIX: '?eager';
export const LOADED_ON_FIRST_CALL: readonly RegExp[];
export const loadOnFirstCall: Plugin;
export function nodeBundleOptions(options: { version: string; quiet?: boolean }): BuildOptions & { external: string[]; metafile: true };
export function cliBundleOptions(options: { root: string; outfile: string; version: string; quiet?: boolean }): BuildOptions & { metafile: true };
export function keepAscii(file: string): Promise<void>;
