import { spawnSync } from "node:child_process";
import { loadTurboJpeg } from "./turbo-hybrid.js";

/** Native tools the bench can compare against; each is optional. */
export interface Peers {
  taskset: boolean;
  vipsthumbnail: string | undefined;
  /** Command prefix: ["convert"] for ImageMagick 6, ["magick"] for 7. */
  imagemagick: string[] | undefined;
  graphicsmagick: string | undefined;
  /** A Python interpreter that can import PIL. */
  python: string | undefined;
  /** libjpeg-turbo's TurboJPEG library, loadable through koffi (the what-if decoder row). */
  turbojpeg: boolean;
  versions: Record<string, string>;
}

export const INSTALL_HINTS = {
  taskset: "apt-get install -y util-linux",
  vipsthumbnail: "apt-get install -y libvips-tools",
  imagemagick: "apt-get install -y imagemagick",
  graphicsmagick: "apt-get install -y graphicsmagick",
  pillow: "apt-get install -y python3-pil   (or: python3 -m pip install pillow)",
  turbojpeg: "apt-get install -y libturbojpeg0",
} as const;

function run(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
  if (r.error || r.status !== 0) return undefined;
  return `${r.stdout}${r.stderr}`;
}

const firstLine = (text: string) => text.split("\n", 1)[0]!.trim();

export function detectPeers(): Peers {
  const versions: Record<string, string> = {};
  const taskset = run("taskset", ["-p", String(process.pid)]) !== undefined;

  const vips = run("vipsthumbnail", ["--vips-version"]);
  if (vips) versions.vipsthumbnail = firstLine(vips);

  // A `convert` on PATH may be something else entirely (this machine ships a PNG-only stand-in), so
  // only a binary whose -version says ImageMagick counts.
  let imagemagick: string[] | undefined;
  for (const candidate of [["magick"], ["/usr/bin/convert"], ["convert"]]) {
    const out = run(candidate[0]!, ["-version"]);
    if (out && /ImageMagick/.test(out)) {
      imagemagick = candidate;
      versions.imagemagick = firstLine(out).replace(/^Version:\s*/, "");
      break;
    }
  }

  const gm = run("gm", ["version"]);
  const graphicsmagick = gm && /GraphicsMagick/.test(gm) ? "gm" : undefined;
  if (gm && graphicsmagick) versions.graphicsmagick = firstLine(gm);

  // pyenv's python3 often lacks PIL while Debian's python3-pil installs for /usr/bin/python3.
  let python: string | undefined;
  for (const candidate of ["python3", "/usr/bin/python3", "python"]) {
    const out = run(candidate, ["-c", "import PIL, sys; print(PIL.__version__, sys.version.split()[0])"]);
    if (out) {
      python = candidate;
      versions.pillow = `Pillow ${firstLine(out).replace(" ", " on Python ")}`;
      break;
    }
  }
  const turbo = loadTurboJpeg();
  if (!(turbo instanceof Error)) versions.turbojpeg = turbo.version;
  return {
    taskset,
    vipsthumbnail: vips ? "vipsthumbnail" : undefined,
    imagemagick,
    graphicsmagick,
    python,
    turbojpeg: !(turbo instanceof Error),
    versions,
  };
}
