// Skep's version, stamped by the build (esbuild `define`); "dev" when running from source.
declare const __SKEP_VERSION__: string | undefined;

export const SKEP_VERSION: string = typeof __SKEP_VERSION__ === 'string' ? __SKEP_VERSION__ : 'dev';
