/**
 * Loads a config or routes module: `.js`/`.mjs` with Node's import, `.ts`/`.mts` through
 * tsx (esbuild), the same way in the main thread and in every worker thread.
 */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

/** A path (relative to the working directory) or a URL, as a file URL string. */
export function toModuleUrl(specifier: string | URL): string {
  if (specifier instanceof URL) return specifier.href;
  if (/^file:/.test(specifier)) return specifier;
  return pathToFileURL(resolve(specifier)).href;
}

export async function importModule(specifier: string | URL): Promise<Record<string, unknown>> {
  const url = toModuleUrl(specifier);
  const path = fileURLToPath(url);
  const extension = extname(path);
  if (!(MODULE_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new Error(`cannot load ${path}: expected a module ending in ${MODULE_EXTENSIONS.join(', ')}`);
  }
  if (!existsSync(path)) throw new Error(`cannot load ${path}: no such file`);
  if (extension === '.ts' || extension === '.mts') {
    const { tsImport } = await import('tsx/esm/api');
    return unwrapCommonJs((await tsImport(url, import.meta.url)) as Record<string, unknown>);
  }
  return (await import(url)) as Record<string, unknown>;
}

/**
 * A `.ts` file outside an ESM package (no `"type": "module"` in its package.json) is compiled
 * to CommonJS, and its namespace then holds the module's exports under `default`. Give back
 * the exports as an ES module would have them.
 */
function unwrapCommonJs(namespace: Record<string, unknown>): Record<string, unknown> {
  const inner = namespace.default as Record<string, unknown> | null | undefined;
  if (inner && typeof inner === 'object' && (inner as { __esModule?: unknown }).__esModule === true) {
    return { ...inner };
  }
  return namespace;
}
