/** Replaced at build time by esbuild with package.json's version. */
declare const KESTREL_VERSION: string;

export const kestrelVersion: string = typeof KESTREL_VERSION === 'string' ? KESTREL_VERSION : '0.0.0-dev';
