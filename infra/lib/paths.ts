import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The monorepo root: esbuild's project root, where pnpm-lock.yaml and the packages live. */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const INFRA_DIR = join(REPO_ROOT, "infra");
export const LOCK_FILE = join(REPO_ROOT, "pnpm-lock.yaml");

/** The Lambda packages this app deploys (directories under packages/). */
export type LambdaPackage = "coordinator" | "worker" | "error-consumer";

interface PackageJson {
  version: string;
  exports?: Record<string, { source?: string }>;
}

const readPackageJson = (path: string): PackageJson => JSON.parse(readFileSync(path, "utf8")) as PackageJson;

/** The package.json export a Lambda package names its default handler with. */
export const DEFAULT_HANDLER_EXPORT = "./handler";

/**
 * The TypeScript source of one of a package's handler exports (`./handler` unless told otherwise; the
 * worker also exports `./dead-letter-handler`). Read from its package.json rather than hard-coded, so
 * moving a handler in a package cannot silently deploy a stale path.
 */
export function handlerEntry(pkg: LambdaPackage, exportName: string = DEFAULT_HANDLER_EXPORT): string {
  const dir = join(REPO_ROOT, "packages", pkg);
  const source = readPackageJson(join(dir, "package.json")).exports?.[exportName]?.source;
  if (!source)
    throw new Error(`packages/${pkg}/package.json has no "${exportName}" export with a "source" condition.`);
  return join(dir, source);
}

/**
 * The version of a dependency as installed for a package (pnpm links it under the package's own
 * node_modules). Native modules are installed into the bundle at this exact version, so the Lambda
 * runs the same release the tests ran.
 */
export function installedVersion(pkg: LambdaPackage, dependency: string): string {
  const path = join(REPO_ROOT, "packages", pkg, "node_modules", dependency, "package.json");
  try {
    return readPackageJson(path).version;
  } catch (error) {
    throw new Error(`Cannot read ${path}: run \`pnpm install\` at the repository root first.`, {
      cause: error,
    });
  }
}
