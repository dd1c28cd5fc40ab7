import { fileURLToPath } from "node:url";
import { DEFAULT_OUTPUT } from "@thumbs/core";
import type { RunSpec } from "./harness.js";
import { INSTALL_HINTS, type Peers } from "./peers.js";

export type ContenderId =
  | "ours"
  | "naive-sharp"
  | "vipsthumbnail"
  | "pillow-right"
  | "pillow-tutorial"
  | "pillow-resize-default"
  | "imagemagick"
  | "graphicsmagick"
  | "turbo-hybrid"
  | "floor-libvips"
  | "floor-libjpeg";

export interface Contender {
  id: ContenderId;
  label: string;
  /** A decode floor: reference, not a peer. */
  floor: boolean;
  /** Builds the runner for a list file; undefined when the peer is not installed. */
  spec: ((list: string, inFlight: number) => RunSpec) | undefined;
  skipReason?: string;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
// Works from src/ (vitest) and dist/ (node) alike: both sit one level below the package root.
const PILLOW_RUNNER = here("../python/pillow_runner.py");
const NODE_RUNNER = here("./node-runner.js");
const CLI_RUNNER = here("./cli-runner.js");

const SIZES = DEFAULT_OUTPUT.sizes.map((s) => `${s.width}x${s.height}`).join(",");

function nodeRunner(mode: string) {
  return (list: string, inFlight: number): RunSpec => ({
    command: process.execPath,
    args: [NODE_RUNNER, "--mode", mode, "--list", list, "--concurrency", String(inFlight)],
  });
}

function pillow(python: string | undefined, mode: string): Contender["spec"] {
  if (!python) return undefined;
  return (list) => ({
    command: python,
    args: [PILLOW_RUNNER, "--mode", mode, "--list", list, "--sizes", SIZES],
  });
}

/** A command-line peer run by cli-runner.ts over a list file; undefined when the tool is missing. */
export function tool(name: string, command: string[] | undefined): Contender["spec"] {
  if (!command) return undefined;
  return (list) => ({
    command: process.execPath,
    args: [CLI_RUNNER, "--tool", name, "--command", JSON.stringify(command), "--list", list],
  });
}

/** Every contender, in table order; the ones whose tool is missing carry the command that installs it. */
export function contenders(peers: Peers): Contender[] {
  const list: Contender[] = [
    { id: "ours", label: "ours: worker resize core", floor: false, spec: nodeRunner("ours") },
    { id: "naive-sharp", label: "naive sharp (2 pipelines)", floor: false, spec: nodeRunner("naive") },
    {
      id: "vipsthumbnail",
      label: "vipsthumbnail per size (CLI)",
      floor: false,
      spec: tool("vipsthumbnail", peers.vipsthumbnail ? [peers.vipsthumbnail] : undefined),
      skipReason: INSTALL_HINTS.vipsthumbnail,
    },
    {
      id: "pillow-right",
      label: "Pillow done right",
      floor: false,
      spec: pillow(peers.python, "right"),
      skipReason: INSTALL_HINTS.pillow,
    },
    {
      id: "pillow-tutorial",
      label: "Pillow as tutorials (ANTIALIAS)",
      floor: false,
      spec: pillow(peers.python, "tutorial"),
      skipReason: INSTALL_HINTS.pillow,
    },
    {
      id: "pillow-resize-default",
      label: "Pillow resize(), default filter",
      floor: false,
      spec: pillow(peers.python, "tutorial-default"),
      skipReason: INSTALL_HINTS.pillow,
    },
    {
      id: "imagemagick",
      label: "ImageMagick -resize per size",
      floor: false,
      spec: tool("imagemagick", peers.imagemagick),
      skipReason: INSTALL_HINTS.imagemagick,
    },
    {
      id: "graphicsmagick",
      label: "GraphicsMagick per size",
      floor: false,
      spec: tool("graphicsmagick", peers.graphicsmagick ? [peers.graphicsmagick, "convert"] : undefined),
      skipReason: INSTALL_HINTS.graphicsmagick,
    },
    {
      id: "turbo-hybrid",
      label: "what-if: libjpeg-turbo decode + sharp",
      floor: false,
      spec: peers.turbojpeg ? nodeRunner("turbo-hybrid") : undefined,
      skipReason: INSTALL_HINTS.turbojpeg,
    },
    { id: "floor-libvips", label: "decode floor: libvips (ours')", floor: true, spec: nodeRunner("floor") },
    {
      id: "floor-libjpeg",
      label: "decode floor: libjpeg-turbo",
      floor: true,
      spec: pillow(peers.python, "floor"),
      skipReason: `${INSTALL_HINTS.pillow} (measured through Pillow's draft() + load())`,
    },
  ];
  return list.map((c) => (c.spec ? { ...c, skipReason: undefined } : c));
}

/** What each row means, printed under the table. */
export const NOTES: Record<ContenderId, string> = {
  ours: "makeThumbnails(): one shrink-on-load decode to the encoded large size, small sizes from that",
  "naive-sharp": "sharp defaults, .rotate().resize().jpeg() once per size: two decodes",
  vipsthumbnail: "native libvips, one process per size per original (process start included)",
  "pillow-right":
    "one python3 process loops over all files (interpreter start paid once); draft()+thumbnail()",
  "pillow-tutorial":
    "one python3 process; Image.open+resize(size, ANTIALIAS)+save per size (ANTIALIAS is LANCZOS since " +
    "Pillow 10): full decode per size, no EXIF orientation",
  "pillow-resize-default":
    "the same with resize()'s default filter (bicubic), as newer snippets write it; reported, no target",
  imagemagick:
    "`convert in -auto-orient -resize WxH> -quality 80 -strip out`, one process per size per original",
  graphicsmagick: "`gm convert` likewise, one process per size per original",
  "turbo-hybrid":
    "not shipped: bare libjpeg-turbo (TurboJPEG via koffi) decodes at the floor's scale, sharp does the " +
    "rest of ours' scheme; JPEG only, no ICC or input safeguards, so a lower bound for a decoder swap",
  "floor-libvips": "sharp/libvips shrink-on-load decode alone, same scale as ours (+ nearest sampling)",
  "floor-libjpeg":
    "libjpeg-turbo decode alone (Pillow draft+load), largest DCT scale that covers the large size",
};
