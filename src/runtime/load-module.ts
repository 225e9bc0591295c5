/**
 * Loads config and routes modules, in the main thread and in worker threads.
 *
 * - `.js` / `.mjs`: Node's own `import`.
 * - `.ts` / `.mts`: compiled ONCE, in the thread that first asks (the main thread), with
 *   esbuild into plain JavaScript, then imported like any `.mjs`. The module's own relative
 *   imports are bundled into it (so a `./helpers.ts` is compiled too); packages
 *   (`import 'ptimer'`, `node:fs`) stay imports and resolve as they would from the source.
 *
 * Why: loading `.ts` through tsx in every worker thread started an esbuild process per thread
 * (9 processes, ~105 MB, for 8 workers; 405 MB RSS against 168 MB for the same config as .mjs).
 * Now the workers import the compiled file and never load a compiler.
 *
 * Where the JavaScript goes: `.ptimer-cache/` in the source's own directory (with a
 * `.gitignore` of `*`), so that bare imports resolve from the same `node_modules` as the source.
 * If that directory cannot be written (or the folder there is not this user's alone), a private
 * per-user folder in the OS temp dir, with bare imports
 * rewritten to the absolute files esbuild resolves them to. The output's name is a hash of its
 * content; a manifest (`<file>.json`) lists the inputs with their content hashes, so the next run
 * verifies it by hashing the inputs and compiles again only when one changed. A worker thread
 * takes the compiled file the manifest names without comparing: the main thread compiled and
 * validated it. `import.meta.url`, `.filename` and `.dirname` keep
 * meaning the source file.
 *
 * `import 'ptimer'` (and `ptimer/...`) in a config means the ptimer that is running it, wherever
 * the config lives: `/etc/ptimer` beside a global install, a Docker volume, a read-only folder,
 * none of which has a `node_modules/ptimer`. So a compiled module has `ptimer` rewritten to this
 * package's own entry (an absolute file URL); and a `.js`/`.mjs` module whose folder does not
 * resolve `ptimer` to this package is compiled the same way (bundling only its own local files),
 * rather than failing with "Cannot find package 'ptimer'". A `.js` config beside this package's
 * own `node_modules/ptimer` (the usual project) is imported as it is.
 *
 * An error while importing a compiled module names the user's source, not the cache file.
 *
 * `importModule` evaluates a module once per content: asking again for an unchanged file gives
 * the same namespace (a config's top-level code runs once, though `fromFile` and `create` both
 * load it); a changed file (a reload) is evaluated afresh.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

export const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;
const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts']);

/** The folder, next to a `.ts` source, that holds its compiled JavaScript. */
export const CACHE_DIR_NAME = '.ptimer-cache';
/** Compiled files older than this, and no longer named by a manifest, are removed when a new one is written. */
const PRUNE_AFTER_MS = 7 * 24 * 3600 * 1000;
/** A source (or one of its local imports) larger than this is refused: a bound on what is hashed and compiled. */
const MAX_SOURCE_BYTES = 16 * 1024 * 1024;

/** A path (relative to the working directory) or a URL, as a file URL string. */
export function toModuleUrl(specifier: string | URL): string {
  if (specifier instanceof URL) return specifier.href;
  if (/^file:/.test(specifier)) return specifier;
  return pathToFileURL(resolve(specifier)).href;
}

/** What a compiled module was made from, kept next to it. */
interface Manifest {
  /** The compiled file's name, in the same folder as the manifest. */
  output: string;
  /** Absolute path -> sha256 of its content, for the source and every local file bundled into it. */
  inputs: Record<string, string>;
}

const compiled = new Map<string, Manifest & { dir: string }>();
/**
 * The compiled files this thread was given (named by their content, never rewritten): imported
 * by their plain URL, so that the pinned routes of a `.ts` module are the namespace its config
 * already loaded, not a second evaluation of its top-level code.
 */
const contentNamed = new Set<string>();

function outputUrl(dir: string, output: string): string {
  const path = join(dir, output);
  contentNamed.add(path);
  return pathToFileURL(path).href;
}
const compiling = new Map<string, Promise<string>>();
const namespaces = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Imports a config or routes module. `.ts`/`.mts` are compiled first (once per content).
 * The same unchanged file gives the same namespace; a changed one is evaluated again.
 */
export async function importModule(specifier: string | URL): Promise<Record<string, unknown>> {
  const path = checkedPath(specifier);
  let url: string;
  let compiledPath: string | undefined;
  if (needsCompiling(path)) {
    url = await compileModule(path);
    compiledPath = fileURLToPath(url);
    process.setSourceMapsEnabled(true); // stack traces point into the .ts source (as under tsx)
  } else if (contentNamed.has(path)) {
    url = pathToFileURL(path).href;
  } else {
    // Node caches a module per URL: a query naming the content makes an edited file load anew.
    const version = hash(readSource(path)).slice(0, 16);
    url = `${pathToFileURL(path).href}?v=${version}`;
  }
  let namespace = namespaces.get(url);
  if (!namespace) {
    namespace = (import(url) as Promise<Record<string, unknown>>).catch((err: unknown) => {
      throw compiledPath === undefined ? err : namingSource(err, compiledPath, path);
    });
    namespaces.set(url, namespace);
    namespace.catch(() => namespaces.delete(url)); // a module that threw at import may be fixed and tried again
  }
  return namespace;
}

/**
 * The URL worker threads should import for a routes module: for `.ts`/`.mts` the compiled
 * JavaScript (so that no worker loads a compiler), for JavaScript the file itself.
 */
export async function routesModuleUrlForWorkers(specifier: string | URL): Promise<string> {
  const path = checkedPath(specifier);
  return needsCompiling(path) ? compileModule(path) : pathToFileURL(path).href;
}

/**
 * The routes module as worker threads load it, pinned by content for every kind (`.js`/`.mjs`
 * too, not only `.ts`): bundled once into a content-named file that is never rewritten, so a
 * thread started later (a restart after a crash, a force) loads exactly the code the main thread
 * checked, whatever has happened to the source since.
 */
export function pinnedRoutesUrl(specifier: string | URL): Promise<string> {
  return compileModule(specifier);
}

/** This package's own entry, as `import 'ptimer'` from inside it resolves (its `exports`). */
let runningPtimer: string | undefined;
function runningPtimerEntry(): string {
  runningPtimer ??= createRequire(import.meta.url).resolve('ptimer');
  return runningPtimer;
}

/**
 * `.ts`/`.mts` always; `.js`/`.mjs` when its folder would not resolve `import 'ptimer'` to the
 * ptimer that is running (no `node_modules/ptimer` there, or another copy). The answer depends
 * only on the file system, so a worker thread decides as the main thread did.
 */
function needsCompiling(path: string): boolean {
  if (TYPESCRIPT_EXTENSIONS.has(extname(path))) return true;
  if (!/['"]ptimer(?:\/[^'"]*)?['"]/.test(readSource(path))) return false;
  try {
    return createRequire(path).resolve('ptimer') !== runningPtimerEntry();
  } catch {
    return true;
  }
}

/** An import error of a compiled file, told about the user's source instead. */
function namingSource(err: unknown, compiledPath: string, source: string): unknown {
  if (!(err instanceof Error)) return err;
  const renamed = err.message.split(pathToFileURL(compiledPath).href).join(source).split(compiledPath).join(source);
  if (renamed === err.message) return err;
  const copy = new Error(renamed, { cause: err });
  (copy as { code?: unknown }).code = (err as { code?: unknown }).code;
  return copy;
}

/**
 * Compiles a `.ts`/`.mts` module (and the local files it imports) to one ES module and gives
 * back its file URL. Compiles only when the sources changed since the last compile (this
 * process's or, through the manifest, an earlier one's).
 */
export async function compileModule(specifier: string | URL): Promise<string> {
  const path = checkedPath(specifier);
  const fresh = compiled.get(path);
  if (fresh && upToDate(fresh.inputs)) return outputUrl(fresh.dir, fresh.output);
  const pending = compiling.get(path);
  if (pending) return pending;
  const work = (async () => {
    const dir = cacheDirFor(path);
    const onDisk = readManifest(dir.path, path);
    // A worker thread takes what the main thread compiled last, even if the source has changed
    // since: that is the code the main thread validated (a reload compiles anew and rewrites the
    // manifest first), and a worker must not start a compiler.
    if (onDisk && existsSync(join(dir.path, onDisk.output)) && (!isMainThread || upToDate(onDisk.inputs))) {
      compiled.set(path, { ...onDisk, dir: dir.path });
      return outputUrl(dir.path, onDisk.output);
    }
    const { code, inputs } = await bundle(path, {
      sourcemap: 'inline',
      keepSourceMeta: true,
      absoluteExternals: !dir.nextToSource,
      outfile: join(dir.path, `${basename(path, extname(path))}.mjs`), // the map's sources are relative to it
    });
    const output = `${basename(path, extname(path))}.${hash(code).slice(0, 16)}.mjs`;
    writeAtomically(join(dir.path, output), code);
    const manifest: Manifest = { output, inputs };
    writeAtomically(manifestPath(dir.path, path), JSON.stringify(manifest, null, 2));
    pruneCache(dir.path);
    compiled.set(path, { ...manifest, dir: dir.path });
    return outputUrl(dir.path, output);
  })();
  compiling.set(path, work);
  try {
    return await work;
  } finally {
    compiling.delete(path);
  }
}

/**
 * `ptimer build`: compiles a `.ts` module to `outfile` for production (a source map beside it).
 * Bare imports are left to Node, so they resolve from `outfile`'s folder.
 */
export async function buildModule(
  specifier: string | URL,
  outfile: string,
): Promise<{ outfile: string; inputs: string[] }> {
  const path = checkedPath(specifier);
  if (!TYPESCRIPT_EXTENSIONS.has(extname(path))) {
    throw new Error(`${path} is already JavaScript: build compiles a .ts or .mts module`);
  }
  const out = resolve(outfile);
  const { code, map, inputs } = await bundle(path, {
    sourcemap: 'external',
    keepSourceMeta: false,
    absoluteExternals: false,
    outfile: out,
  });
  mkdirSync(dirname(out), { recursive: true });
  writeAtomically(out, `${code}//# sourceMappingURL=${basename(out)}.map\n`, 0o644);
  if (map) writeAtomically(`${out}.map`, map, 0o644);
  return { outfile: out, inputs: Object.keys(inputs) };
}

function checkedPath(specifier: string | URL): string {
  const path = fileURLToPath(toModuleUrl(specifier));
  const extension = extname(path);
  if (!(MODULE_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new Error(`cannot load ${path}: expected a module ending in ${MODULE_EXTENSIONS.join(', ')}`);
  }
  if (!existsSync(path)) throw new Error(`cannot load ${path}: no such file`);
  return path;
}

interface BundleOptions {
  sourcemap: 'inline' | 'external';
  /** Replace import.meta.url/filename/dirname with the source file's own (the output lives elsewhere). */
  keepSourceMeta: boolean;
  /** Rewrite bare imports to absolute paths (the output's folder cannot resolve them). */
  absoluteExternals: boolean;
  outfile?: string;
}

/** Builds in flight: esbuild's service process is stopped when the last one ends (it would stay, ~11 MB). */
let building = 0;

async function bundle(
  path: string,
  options: BundleOptions,
): Promise<{ code: string; map?: string; inputs: Record<string, string> }> {
  const esbuild = await import('esbuild');
  building++;
  try {
    return await bundleWith(esbuild, path, options);
  } finally {
    if (--building === 0) await esbuild.stop();
  }
}

async function bundleWith(
  esbuild: typeof import('esbuild'),
  path: string,
  options: BundleOptions,
): Promise<{ code: string; map?: string; inputs: Record<string, string> }> {
  const plugins: import('esbuild').Plugin[] = [runningPtimerPlugin()];
  if (options.keepSourceMeta) plugins.push(sourceMetaPlugin());
  if (options.absoluteExternals) plugins.push(absoluteExternalsPlugin());
  let result: import('esbuild').BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [path],
      absWorkingDir: dirname(path),
      bundle: true,
      // Packages stay imports. (With absoluteExternals its plugin decides, and esbuild's own switch must be off.)
      ...(options.absoluteExternals ? {} : { packages: 'external' as const }),
      platform: 'node',
      format: 'esm',
      target: 'node20',
      conditions: [],
      sourcemap: options.sourcemap,
      outfile: options.outfile ?? join(dirname(path), `${basename(path, extname(path))}.mjs`),
      write: false,
      metafile: true,
      logLevel: 'silent',
      plugins,
    });
  } catch (err) {
    // eslint-disable-next-line preserve-caught-error -- the message carries the cause's; a cause would repeat it in pino's serialized message
    throw new Error(`cannot compile ${path}: ${describeBuildFailure(err)}`);
  }
  const js = result.outputFiles.find((f) => f.path.endsWith('.mjs') || f.path.endsWith('.js'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  if (!js) throw new Error(`cannot compile ${path}: esbuild wrote no JavaScript`);
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const abs = isAbsolute(input) ? input : resolve(dirname(path), input);
    if (existsSync(abs)) inputs[abs] = hash(readSource(abs));
  }
  let code = js.text;
  if (options.sourcemap === 'external') code = code.replace(/\/\/# sourceMappingURL=\S+\s*$/, '');
  return { code, map: map?.text, inputs };
}

function describeBuildFailure(err: unknown): string {
  const errors = (err as { errors?: import('esbuild').Message[] }).errors;
  if (!Array.isArray(errors) || errors.length === 0) return err instanceof Error ? err.message : String(err);
  return errors
    .slice(0, 5)
    .map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ${e.text}` : e.text))
    .join('; ');
}

/** The compiled file lives elsewhere: give every local file its own import.meta.url, filename and dirname. */
function sourceMetaPlugin(): import('esbuild').Plugin {
  const loaders: Record<string, import('esbuild').Loader> = {
    '.ts': 'ts',
    '.mts': 'ts',
    '.cts': 'ts',
    '.tsx': 'tsx',
    '.js': 'js',
    '.mjs': 'js',
    '.cjs': 'js',
    '.jsx': 'jsx',
  };
  return {
    name: 'ptimer-source-meta',
    setup(build) {
      build.onLoad({ filter: /\.[mc]?[jt]sx?$/ }, (args) => {
        const loader = loaders[extname(args.path)];
        if (!loader) return undefined;
        const text = readSource(args.path);
        if (!text.includes('import.meta')) return { contents: text, loader };
        const values: Record<string, string> = {
          url: JSON.stringify(pathToFileURL(args.path).href),
          filename: JSON.stringify(args.path),
          dirname: JSON.stringify(dirname(args.path)),
        };
        return {
          contents: text.replace(/\bimport\.meta\.(url|filename|dirname)\b/g, (_, key: string) => values[key]!),
          loader,
        };
      });
    },
  };
}

/** `ptimer` and `ptimer/...` are the running package, wherever the source is (see the head comment). */
function runningPtimerPlugin(): import('esbuild').Plugin {
  return {
    name: 'ptimer-running-package',
    setup(build) {
      build.onResolve({ filter: /^ptimer(\/|$)/ }, (args) => {
        const entry =
          args.path === 'ptimer' ? runningPtimerEntry() : createRequire(runningPtimerEntry()).resolve(args.path);
        return { path: pathToFileURL(entry).href, external: true };
      });
    },
  };
}

/** For output outside the source's folder: a bare import becomes the absolute file esbuild resolves it to. */
function absoluteExternalsPlugin(): import('esbuild').Plugin {
  return {
    name: 'ptimer-absolute-externals',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'ptimer-inner' || args.path.startsWith('node:') || isAbsolute(args.path))
          return undefined;
        const found = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          pluginData: 'ptimer-inner',
        });
        if (found.errors.length > 0 || !found.path || !isAbsolute(found.path))
          return { path: args.path, external: true };
        return { path: pathToFileURL(found.path).href, external: true };
      });
    },
  };
}

function cacheDirFor(source: string): { path: string; nextToSource: boolean } {
  const local = join(dirname(source), CACHE_DIR_NAME);
  if (tryMakeCacheDir(local)) return { path: local, nextToSource: true };
  let user = 'user';
  try {
    user = String(userInfo().uid);
  } catch {
    // no passwd entry: the shared name is still private by mode 0700
  }
  const mine = join(tmpdir(), `ptimer-cache-${user}`);
  const fallback = join(mine, hash(dirname(source)).slice(0, 16));
  if (tryMakeCacheDir(fallback, [mine])) return { path: fallback, nextToSource: false };
  throw new Error(
    `cannot compile ${source}: neither ${local} nor ${fallback} can be written as a folder of this user's only (or use \`ptimer build\` and run the .mjs)`,
  );
}

/**
 * The cache holds code this process will run, so it must be ours alone: a folder (not a link),
 * owned by this user, writable by nobody else. (In the temp dir another user could otherwise
 * plant a compiled file and its manifest first.)
 */
function isPrivateDir(dir: string): boolean {
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.isSymbolicLink()) return false;
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return false;
  return (st.mode & 0o022) === 0;
}

function tryMakeCacheDir(dir: string, parentsToCheck: string[] = []): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const d of [...parentsToCheck, dir]) if (!isPrivateDir(d)) return false;
    const ignore = join(dir, '.gitignore');
    if (!existsSync(ignore)) writeFileSync(ignore, '# written by ptimer: compiled .ts modules, safe to delete\n*\n');
    const probe = join(dir, `.probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
    return true;
  } catch {
    return false;
  }
}

function manifestPath(dir: string, source: string): string {
  return join(dir, `${basename(source)}.json`);
}

function readManifest(dir: string, source: string): Manifest | null {
  try {
    const m = JSON.parse(readFileSync(manifestPath(dir, source), 'utf8')) as Manifest;
    if (typeof m.output !== 'string' || /[/\\]/.test(m.output) || !m.inputs || typeof m.inputs !== 'object')
      return null;
    if (!Object.hasOwn(m.inputs, source)) return null;
    return m;
  } catch {
    return null;
  }
}

function upToDate(inputs: Record<string, string>): boolean {
  for (const [file, digest] of Object.entries(inputs)) {
    try {
      if (hash(readSource(file)) !== digest) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function readSource(path: string): string {
  const size = statSync(path).size;
  if (size > MAX_SOURCE_BYTES)
    throw new Error(
      `cannot load ${path}: ${size} bytes, more than the ${MAX_SOURCE_BYTES / 1024 / 1024} MiB a module may have`,
    );
  return readFileSync(path, 'utf8');
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Write then rename, so that a thread reading the file never sees half of it. */
function writeAtomically(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/** Removes compiled files older than a week that no manifest names (a bound on the cache's growth). */
function pruneCache(dir: string): void {
  try {
    const names = readdirSync(dir);
    const named = new Set<string>();
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      try {
        named.add((JSON.parse(readFileSync(join(dir, name), 'utf8')) as Manifest).output);
      } catch {
        // a manifest being replaced: its output is kept by age anyway
      }
    }
    const now = Date.now();
    for (const name of names) {
      if (!name.endsWith('.mjs') || named.has(name)) continue;
      const file = join(dir, name);
      if (now - statSync(file).mtimeMs > PRUNE_AFTER_MS) unlinkSync(file);
    }
  } catch {
    // pruning is best effort
  }
}
