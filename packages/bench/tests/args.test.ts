import type { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { benchCommand, parseArgs } from "../src/args.js";

/** The bench's command on a machine with `cpus` cores, throwing instead of exiting and printing nothing. */
const command = (cpus: number) =>
  benchCommand(undefined, cpus)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });

/** The message commander would print for `argv`, or "no error". */
const failure = (argv: string[], cpus: number): string => {
  try {
    parseArgs(argv, command(cpus));
    return "no error";
  } catch (error) {
    return (error as CommanderError).message;
  }
};

describe("parseArgs", () => {
  it("defaults to the issue's corpus and every core", () => {
    // Prepare
    const argv: string[] = [];

    // Act
    const args = parseArgs(argv, command(2));

    // Assess
    expect(args).toEqual({
      images: 40,
      bigImages: 4,
      heicImages: 4,
      megapixels: 8.8,
      rounds: 5,
      cores: 2,
      only: [],
      cacheDir: undefined,
      json: undefined,
    });
  });

  it("reads values given as separate words or after =, and skips pnpm's --", () => {
    // Prepare
    const argv = [
      "--",
      "--images",
      "12",
      "--big=2",
      "--heic",
      "0",
      "--megapixels=2.5",
      "--rounds",
      "1",
      "--cores=1",
      "--only",
      "ours, naive-sharp",
      "--cache-dir",
      "/tmp/bench",
      "--json=out.json",
    ];

    // Act
    const args = parseArgs(argv, command(8));

    // Assess
    expect(args).toEqual({
      images: 12,
      bigImages: 2,
      heicImages: 0,
      megapixels: 2.5,
      rounds: 1,
      cores: 1,
      only: ["ours", "naive-sharp"],
      cacheDir: "/tmp/bench",
      json: "out.json",
    });
  });

  it("rejects an unknown option, naming the options it resembles", () => {
    // Prepare
    const argv = ["--imgs", "3"];

    // Act
    const message = failure(argv, 2);

    // Assess
    expect(message).toMatch(/unknown option '--imgs'/);
    expect(message).toMatch(/--images/);
  });

  it("rejects a value out of range or missing, saying what was expected and received", () => {
    // Prepare
    const cases = [
      ["--rounds", "0"],
      ["--images", "2.5"],
      ["--megapixels", "lots"],
      ["--cores"],
      ["--cores", "3"],
    ];

    // Act
    const messages = cases.map((argv) => failure(argv, 2));

    // Assess
    expect(messages[0]).toMatch(/--rounds <N>.*expected an integer from 1 to 20, received "0"/);
    expect(messages[1]).toMatch(/--images <N>.*expected an integer from 1 to 10000, received "2.5"/);
    expect(messages[2]).toMatch(/--megapixels <X>.*expected a number from 0.1 to 100, received "lots"/);
    expect(messages[3]).toMatch(/option '--cores <N>' argument missing/);
    expect(messages[4]).toMatch(/--cores <N>.*expected an integer from 1 to 2, received "3"/);
  });

  it("prints every option with its default for pnpm bench -- --help", () => {
    // Prepare
    let help = "";
    const bench = command(2)
      .configureOutput({ writeOut: (text) => (help += text) })
      .configureHelp({ helpWidth: 1000 });

    // Act
    const code = (() => {
      try {
        parseArgs(["--", "--help"], bench);
        return "no exit";
      } catch (error) {
        return (error as CommanderError).code;
      }
    })();

    // Assess
    expect(code).toBe("commander.helpDisplayed");
    expect([...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1])).toEqual([
      "--images",
      "--big",
      "--heic",
      "--megapixels",
      "--rounds",
      "--cores",
      "--only",
      "--cache-dir",
      "--json",
    ]);
    expect(help).toMatch(/Usage: pnpm bench \[-- options\]/);
    expect(help).toMatch(/\(default: 40\)/);
    expect(help).toMatch(/\(default: available cores, 2\)/);
    expect(help).toMatch(/floor-libjpeg/);
  });
});
