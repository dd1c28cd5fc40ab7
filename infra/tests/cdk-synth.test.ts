import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { init as lexerReady, parse as parseModule } from "es-module-lexer";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { BUNDLE_FILE, ESM_DIRNAME_BANNER, ESM_REQUIRE_BANNER } from "../lib/bundle.js";
import { INFRA_DIR, installedVersion } from "../lib/paths.js";

const FUNCTIONS = ["Coordinator", "Worker", "ErrorConsumer", "DeadLetters"];
/** The worker's HEIC decoder thread entry, bundled beside index.mjs. */
const HEIC_THREAD = "heic-thread.mjs";

/** ELF e_machine values (offset 18, little-endian). */
const EM_X86_64 = 0x3e;
const EM_AARCH64 = 0xb7;

/** Every path under `dir`, without following symlinks. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? [path, ...walk(path)] : [path];
  });
}

/** The ELF machine of a file, or undefined when it is not an ELF binary. */
function elfMachine(path: string): number | undefined {
  const header = Buffer.alloc(20);
  const fd = openSync(path, "r");
  try {
    if (readSync(fd, header, 0, 20, 0) < 20) return undefined;
  } finally {
    closeSync(fd);
  }
  return header.readUInt32BE(0) === 0x7f454c46 ? header.readUInt16LE(18) : undefined;
}

describe("cdk synth (the real CLI, no AWS credentials)", () => {
  let outdir: string;
  let template: {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    Outputs: object;
  };

  // Prepare (shared): the one real synth of this run (global-synth.ts); every test reads its assembly.
  beforeAll(async () => {
    await lexerReady;
    outdir = inject("cdkOut");
    template = JSON.parse(readFileSync(join(outdir, "Thumbs.template.json"), "utf8"));
  });

  /** The packages a bundle still imports (everything else is inside it), Node built-ins aside. */
  function bareImports(name: string, file = BUNDLE_FILE): string[] {
    const bundle = readFileSync(join(assetDir(name), file), "utf8");
    // A lexer, not a pattern: a bundled library's strings can read like `from"x"`.
    const [imports] = parseModule(bundle);
    const modules = imports.map((i) => i.n).filter((n): n is string => n !== undefined);
    return [...new Set(modules.filter((m) => !m.startsWith("node:") && !m.startsWith(".")))];
  }

  /** The directory of a function's bundled asset in the cloud assembly (`asset.<hash>`). */
  function assetDir(name: string): string {
    const [, fn] = Object.entries(template.Resources).find(
      ([id, r]) => r.Type === "AWS::Lambda::Function" && id.startsWith(`${name}Function`),
    )!;
    const key = (fn.Properties.Code as { S3Key: string }).S3Key;
    return join(outdir, `asset.${key.replace(/\.zip$/, "")}`);
  }

  it("synthesizes the stack with its outputs, placeholder account and all", () => {
    // Assess
    expect(Object.keys(template.Outputs)).toContain("WorkerFunctionName");
    expect(existsSync(join(INFRA_DIR, "cdk.context.json"))).toBe(false);
  });

  it.each(FUNCTIONS)("bundles %s as one ESM file with require() available", (name) => {
    // Act
    const bundle = readFileSync(join(assetDir(name), BUNDLE_FILE), "utf8");

    // Assess
    expect(bundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(bundle).toMatch(/export\s*\{[^}]*\bas handler\b/);
    expect(existsSync(join(assetDir(name), `${BUNDLE_FILE}.map`))).toBe(true);
  });

  it("bundles every dependency but sharp, which only the worker's dependents import", () => {
    // Act
    const imports = Object.fromEntries(FUNCTIONS.map((name) => [name, bareImports(name)]));

    // Assess
    expect(imports.Worker).toEqual(["sharp"]);
    expect(imports.Coordinator).toEqual([]);
    expect(existsSync(join(assetDir("Coordinator"), "node_modules"))).toBe(false);
    // Same package as the worker, but the dead-letter handler never resizes: no sharp in its bundle.
    expect(imports.DeadLetters).toEqual([]);
    expect(existsSync(join(assetDir("DeadLetters"), "node_modules"))).toBe(false);
    for (const name of FUNCTIONS) {
      expect(imports[name]!.filter((module) => module !== "sharp")).toEqual([]);
      expect(existsSync(join(assetDir(name), "node_modules", "sharp"))).toBe(
        imports[name]!.includes("sharp"),
      );
    }
  });

  it("bundles the dead-letter handler for DeadLetters, not the worker's handler", () => {
    // Act
    const deadLetters = readFileSync(join(assetDir("DeadLetters"), BUNDLE_FILE), "utf8");
    const worker = readFileSync(join(assetDir("Worker"), BUNDLE_FILE), "utf8");

    // Assess: each handler names its own Powertools service (the ImagesDeadLettered alarm's dimension).
    expect(assetDir("DeadLetters")).not.toBe(assetDir("Worker"));
    expect(deadLetters).toContain('"thumbs-dead-letters"');
    expect(deadLetters).not.toContain('"thumbs-worker"');
    expect(worker).toContain('"thumbs-worker"');
    expect(worker).not.toContain('"thumbs-dead-letters"');
  });

  it("ships the HEIC decoder thread beside index.mjs, self-contained, in each bundle that starts it", () => {
    // Act
    const worker = readFileSync(join(assetDir("Worker"), BUNDLE_FILE), "utf8");
    const thread = readFileSync(join(assetDir("Worker"), HEIC_THREAD), "utf8");
    const starts = (name: string) =>
      readFileSync(join(assetDir(name), BUNDLE_FILE), "utf8").includes(`new URL("./${HEIC_THREAD}"`);

    // Assess: index.mjs starts it by its sibling path; libheif (WebAssembly inlined) is bundled in it.
    expect(worker).toContain(`new URL("./${HEIC_THREAD}",import.meta.url)`);
    expect(thread.startsWith(`${ESM_REQUIRE_BANNER} ${ESM_DIRNAME_BANNER}`)).toBe(true);
    expect(thread).toContain("heif_context_read_from_memory");
    expect(bareImports("Worker", HEIC_THREAD)).toEqual([]);
    expect(existsSync(join(assetDir("Worker"), `${HEIC_THREAD}.map`))).toBe(true);
    // The error consumer makes thumbnails on demand with the worker's code; the others never resize.
    for (const name of FUNCTIONS) {
      expect(existsSync(join(assetDir(name), HEIC_THREAD)), name).toBe(starts(name));
    }
    expect(starts("Coordinator") || starts("DeadLetters")).toBe(false);
  });

  it.each(FUNCTIONS.filter((name) => name !== "Coordinator" && name !== "DeadLetters"))(
    "ships %s's sharp (if any) for linux-arm64 glibc, no x64 binary and no symlink",
    (name) => {
      // Prepare
      if (!bareImports(name).includes("sharp")) return;
      const dir = assetDir(name);
      const modules = join(dir, "node_modules");

      // Act
      const paths = walk(dir);
      const symlinks = paths.filter((path) => lstatSync(path).isSymbolicLink());
      const binaries = paths
        .filter((path) => lstatSync(path).isFile())
        .map((path) => ({ path, machine: elfMachine(path) }))
        .filter((file) => file.machine !== undefined);
      const sharp = JSON.parse(readFileSync(join(modules, "sharp", "package.json"), "utf8")) as {
        version: string;
      };

      // Assess
      expect(existsSync(join(modules, "@img", "sharp-linux-arm64"))).toBe(true);
      expect(existsSync(join(modules, "@img", "sharp-libvips-linux-arm64"))).toBe(true);
      expect(sharp.version).toBe(installedVersion("worker", "sharp"));
      expect(paths.filter((path) => /x64|linuxmusl|darwin|win32/.test(path.slice(dir.length)))).toEqual([]);
      expect(symlinks).toEqual([]);
      expect(binaries.length).toBeGreaterThan(0);
      expect(binaries.filter((file) => file.machine === EM_X86_64).map((file) => file.path)).toEqual([]);
      expect(binaries.every((file) => file.machine === EM_AARCH64)).toBe(true);
    },
  );
});
