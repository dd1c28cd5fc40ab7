import { describe, expect, it } from "vitest";
import {
  type ContenderResult,
  evaluateTargets,
  formatTable,
  formatTargets,
  throughput,
  verdict,
  whatIfLine,
} from "../src/table.js";

const result = (id: string, oneMs: number, allMs: number, floor = false): ContenderResult => ({
  id,
  label: id,
  floor,
  oneCore: throughput(100, oneMs * 100),
  allCores: throughput(200, allMs * 200),
});

describe("throughput", () => {
  it("turns images and wall time into ms/image and images/s", () => {
    // Prepare
    const images = 40;
    const wallMs = 2000;

    // Act
    const t = throughput(images, wallMs);

    // Assess
    expect(t).toEqual({ msPerImage: 50, imagesPerSecond: 20 });
  });
});

describe("formatTable", () => {
  it("aligns columns, shows scaling and the ratio to ours, and lists skipped peers with their install command", () => {
    // Prepare
    const results = [
      result("ours", 40, 21),
      result("naive-sharp", 60, 31),
      {
        id: "imagemagick",
        label: "ImageMagick",
        floor: false,
        skipped: "not installed: apt-get install -y imagemagick",
      },
    ];

    // Act
    const lines = formatTable(results, 2);

    // Assess
    expect(lines[0]).toMatch(
      /^contender\s+1 core ms\/img\s+1 core img\/s\s+2 cores ms\/img\s+2 cores img\/s\s+scaling\s+vs ours$/,
    );
    expect(lines[1]).toMatch(/^-+$/);
    expect(lines[2]).toMatch(/^ours\s+40\.0\s+25\.0\s+21\.0\s+47\.6\s+1\.90×\s+1\.00×$/);
    expect(lines[3]).toMatch(/^naive-sharp\s+60\.0\s+16\.7\s+31\.0\s+32\.3\s+1\.94×\s+1\.50×$/);
    expect(lines[2]!.length).toBe(lines[0]!.length);
    expect(lines[4]).toBe("skipped: ImageMagick (not installed: apt-get install -y imagemagick)");
  });
});

describe("evaluateTargets", () => {
  it("passes or misses each target from ratios of the same run, and says why one is unmeasured", () => {
    // Prepare
    const results = [
      result("ours", 40, 21),
      result("naive-sharp", 60, 31),
      result("pillow-right", 50, 26),
      result("floor-libvips", 28, 15, true),
      result("floor-libjpeg", 20, 11, true),
      { id: "imagemagick", label: "ImageMagick", floor: false, skipped: "not installed" },
    ];

    // Act
    const targets = evaluateTargets({ results, peakRssMb: 180, rssConcurrency: 2 });

    // Assess
    const byName = Object.fromEntries(targets.map((t) => [t.name, verdict(t)]));
    expect(byName).toMatchObject({
      "ours ≤ 1.8× decode floor (libjpeg-turbo alone)": "MISS",
      "ours ≤ 1.8× decode floor (libvips, ours' decoder)": "PASS",
      "≥ 1.3× faster than Pillow done right": "MISS",
      "≥ 1.4× faster than naive sharp": "PASS",
      "≥ 10× faster than ImageMagick per size": "N/A",
      "ours scales ≥ 1.75× from 1 core to 2": "PASS",
      "ours' peak RSS on 24 MP, 2 in flight (1,769 MB Lambda)": "PASS",
    });
    expect(formatTargets(targets).join("\n")).toMatch(
      /ImageMagick per size\s+–\s+≥ 10×\s+N\/A\s+\(not installed\)/,
    );
  });
});

describe("whatIfLine", () => {
  it("puts the decoder-swap row beside the libjpeg-turbo floor and ours, and stays quiet without them", () => {
    // Prepare
    const ran = [
      result("ours", 44, 22),
      result("turbo-hybrid", 40, 20),
      result("floor-libjpeg", 20, 10, true),
    ];

    // Act
    const line = whatIfLine(ran);
    const withoutFloor = whatIfLine(ran.slice(0, 2));
    const skipped = whatIfLine([{ ...ran[1]!, skipped: "apt-get install -y libturbojpeg0" }, ran[2]!]);

    // Assess
    expect(line).toBe(
      "what-if, no target: libjpeg-turbo decode + sharp 40.0 ms/img = 2.00× the libjpeg-turbo floor, 1.10× faster than ours",
    );
    expect(withoutFloor).toBeUndefined();
    expect(skipped).toBeUndefined();
  });
});
