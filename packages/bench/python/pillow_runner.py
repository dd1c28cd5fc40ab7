"""Pillow contenders for `pnpm bench`, one process looping over every original, so the interpreter
starts once. Speaks the bench protocol (see src/protocol.ts): warm up, print {"ready":true}, wait for a
line on stdin, do the timed work, print {"images", "wallMs", "maxRssKb"}.

Modes:
  right     draft() + thumbnail(): decodes once, at the largest 1/2, 1/4 or 1/8 scale that still covers
            the large size (libjpeg-turbo's DCT scaling), orients from EXIF, converts an embedded ICC
            profile to sRGB, then makes the small size from the large one's pixels (thumbnail()'s
            defaults: bicubic with reducing_gap=2.0).
  tutorial  as Lambda tutorials write it: Image.open + resize(size, Image.ANTIALIAS) + save for each
            size, so a full-size decode and a full-size resize per size, and no EXIF orientation.
            ANTIALIAS, the filter in the most copied snippets, is named LANCZOS since Pillow 10.
  tutorial-default  the same with resize()'s default filter (bicubic), as newer snippets write it.
  floor     the decode alone: draft() to the same scale as `right`, then load().
"""

import io
import json
import resource
import sys
import time

from PIL import Image, ImageCms, ImageOps

QUALITY = 80


def option(name, default=None):
    argv = sys.argv[1:]
    return argv[argv.index("--" + name) + 1] if "--" + name in argv else default


def parse_sizes(text):
    return [tuple(int(v) for v in part.split("x")) for part in text.split(",")]


def fit_inside(width, height, box):
    scale = min(box[0] / width, box[1] / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def encode(image):
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


SRGB = ImageCms.createProfile("sRGB")


def right(data, sizes):
    image = Image.open(io.BytesIO(data))
    largest = sizes[0]
    # draft() picks the DCT scale from the size the image will have *before* orientation, so swap the
    # box for 90/270 degree orientations.
    orientation = image.getexif().get(0x0112, 1)
    box = (largest[1], largest[0]) if orientation in (5, 6, 7, 8) else largest
    image.draft("RGB", fit_inside(image.width, image.height, box))
    image = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    if icc:
        image = ImageCms.profileToProfile(image, io.BytesIO(icc), SRGB, outputMode="RGB")
    if image.mode != "RGB":
        image = image.convert("RGB")
    outputs = []
    for size in sizes:
        # thumbnail() resizes in place and never enlarges; each smaller size starts from the last one.
        # Its defaults (bicubic, reducing_gap=2.0) measured faster here than LANCZOS, so the peer gets them.
        image.thumbnail(size)
        outputs.append(encode(image))
    return outputs


def tutorial(data, sizes, resample=Image.LANCZOS):
    outputs = []
    for size in sizes:
        image = Image.open(io.BytesIO(data))
        box = fit_inside(image.width, image.height, size)
        resized = image.resize(box) if resample is None else image.resize(box, resample)
        outputs.append(encode(resized))
    return outputs


def tutorial_default(data, sizes):
    return tutorial(data, sizes, resample=None)


def floor(data, sizes):
    image = Image.open(io.BytesIO(data))
    orientation = image.getexif().get(0x0112, 1)
    box = (sizes[0][1], sizes[0][0]) if orientation in (5, 6, 7, 8) else sizes[0]
    image.draft("RGB", fit_inside(image.width, image.height, box))
    image.load()
    return image


def main():
    mode = option("mode")
    work = {"right": right, "tutorial": tutorial, "tutorial-default": tutorial_default, "floor": floor}.get(mode)
    if work is None:
        raise SystemExit("Expected --mode right, tutorial, tutorial-default or floor, received %r." % mode)
    sizes = sorted(parse_sizes(option("sizes", "1024x1024,256x256")), key=lambda s: -s[0] * s[1])
    with open(option("list")) as listing:
        files = [line.strip() for line in listing if line.strip()]
    datas = []
    for path in files:
        with open(path, "rb") as f:
            datas.append(f.read())
    for data in datas[:2]:
        work(data, sizes)
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    for data in datas:
        work(data, sizes)
    wall_ms = (time.perf_counter() - started) * 1000
    max_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"images": len(datas), "wallMs": wall_ms, "maxRssKb": max_rss_kb}), flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # reported to the bench, which prints it in the table
        print(json.dumps({"error": "%s: %s" % (type(error).__name__, error)}), flush=True)
        sys.exit(1)
