import { describe, expect, it } from "vitest";
import { parseArgs } from "../src/args.js";

describe("parseArgs", () => {
  it("defaults to the issue's corpus and every core", () => {
    // Prepare
    const argv: string[] = [];

    // Act
    const args = parseArgs(argv, 2);

    // Assess
    expect(args).toMatchObject({
      images: 40,
      bigImages: 4,
      heicImages: 4,
      megapixels: 8.8,
      rounds: 5,
      cores: 2,
      only: [],
    });
  });

  it("reads values given as separate words or after =, and skips pnpm's --", () => {
    // Prepare
    const argv = [
      "--",
      "--images",
      "12",
      "--big=2",
      "--rounds",
      "1",
      "--cores=1",
      "--only",
      "ours, naive-sharp",
    ];

    // Act
    const args = parseArgs(argv, 8);

    // Assess
    expect(args).toMatchObject({
      images: 12,
      bigImages: 2,
      rounds: 1,
      cores: 1,
      only: ["ours", "naive-sharp"],
    });
  });

  it("rejects an unknown option, naming where the options are listed", () => {
    // Prepare
    const argv = ["--imgs", "3"];

    // Act
    const parse = () => parseArgs(argv, 2);

    // Assess
    expect(parse).toThrow(/Unknown option "--imgs".*--help/);
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
    const messages = cases.map((argv) => {
      try {
        parseArgs(argv, 2);
        return "no error";
      } catch (error) {
        return (error as Error).message;
      }
    });

    // Assess
    expect(messages[0]).toMatch(/Expected --rounds to be a number from 1 to 20, received "0"/);
    expect(messages[1]).toMatch(/Expected --images to be a whole number, received "2.5"/);
    expect(messages[2]).toMatch(/Expected --megapixels to be a number/);
    expect(messages[3]).toMatch(/Expected a value after --cores/);
    expect(messages[4]).toMatch(/Expected --cores to be a number from 1 to 2, received "3"/);
  });
});
