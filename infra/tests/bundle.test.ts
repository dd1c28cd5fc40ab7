import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { assertLambdaBinariesInstalled, missingLambdaBinaries, npmCommand } from "../lib/bundle.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An output dir whose node_modules holds these packages (a package.json each). */
function outputWith(...packages: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "thumbs-bundle-"));
  dirs.push(dir);
  for (const pkg of packages) {
    mkdirSync(join(dir, "node_modules", pkg), { recursive: true });
    writeFileSync(join(dir, "node_modules", pkg, "package.json"), "{}");
  }
  return dir;
}

describe("Lambda binary check after the install", () => {
  it("passes when sharp's linux-arm64 binary package is installed", () => {
    // Prepare
    const dir = outputWith("sharp", "@img/sharp-linux-arm64");

    // Act
    const check = () => assertLambdaBinariesInstalled(dir, { sharp: "0.34.5" });

    // Assess
    expect(missingLambdaBinaries(dir, { sharp: "0.34.5" })).toEqual([]);
    expect(check).not.toThrow();
  });

  it("fails naming the missing package and the exact npm command to check", () => {
    // Prepare: what an npm that ignores --os/--cpu/--libc leaves on an x64 machine.
    const dir = outputWith("sharp", "@img/sharp-linux-x64");

    // Act
    const check = () => assertLambdaBinariesInstalled(dir, { sharp: "0.34.5" }, "linux");

    // Assess
    expect(check).toThrow(/has no @img\/sharp-linux-arm64/);
    expect(check).toThrow("npm install --os=linux --cpu=arm64 --libc=glibc sharp@0.34.5");
  });

  it("names npm.cmd on Windows, and checks nothing for modules without a known binary package", () => {
    // Prepare
    const dir = outputWith();

    // Act
    const onWindows = () => assertLambdaBinariesInstalled(dir, { sharp: "0.34.5" }, "win32");

    // Assess
    expect(onWindows).toThrow("npm.cmd install --os=linux --cpu=arm64 --libc=glibc sharp@0.34.5");
    expect(npmCommand("linux")).toBe("npm");
    expect(missingLambdaBinaries(dir, { "pure-js": "1.0.0" })).toEqual([]);
  });
});
