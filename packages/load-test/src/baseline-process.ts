/**
 * One pure-resize baseline process: resizes the originals the parent hands it, as many at once as
 * the parent keeps in flight, with the worker's own makeThumbnails and settings, and reports each
 * image's time. Started by baseline.ts; see OVERHEAD_DEFINITION.
 */
import { readFile } from "node:fs/promises";
import { DEFAULT_IMAGE_TIMEOUT_SECONDS, DEFAULT_MAX_INPUT_PIXELS, DEFAULT_OUTPUT } from "@thumbs/core";
import { applyResizeSettings, makeThumbnails } from "@thumbs/worker";
import type { BaselineMessage, BaselineReply } from "./baseline.js";

// The worker's sharp settings (one libvips thread per pipeline, no cache), as its handler applies them.
applyResizeSettings();
const limits = { maxInputPixels: DEFAULT_MAX_INPUT_PIXELS, timeoutSeconds: DEFAULT_IMAGE_TIMEOUT_SECONDS };
const send = (message: BaselineReply) => process.send?.(message);
let cpuAtFirstJob: NodeJS.CpuUsage | undefined;
let inFlight = 0;
let ending = false;

process.on("message", (raw) => {
  const message = raw as BaselineMessage;
  if (message.type === "end") {
    ending = true;
    finishWhenIdle();
    return;
  }
  cpuAtFirstJob ??= process.cpuUsage();
  inFlight += 1;
  void resizeOne(message.index, message.path).finally(() => {
    inFlight -= 1;
    finishWhenIdle();
  });
});

function finishWhenIdle(): void {
  if (!ending || inFlight > 0) return;
  ending = false;
  const cpu = process.cpuUsage(cpuAtFirstJob);
  send({ type: "finished", cpuMs: (cpu.user + cpu.system) / 1000, rssBytes: process.memoryUsage().rss });
  process.disconnect();
}

async function resizeOne(index: number, path: string): Promise<void> {
  // Reading the file is not resizing: it is outside the timed span (the pipeline's GET is overhead).
  const bytes = await readFile(path);
  const started = performance.now();
  try {
    await makeThumbnails(bytes, DEFAULT_OUTPUT, limits);
    send({ type: "result", index, ms: performance.now() - started, bytes: bytes.length });
  } catch (error) {
    send({
      type: "result",
      index,
      ms: performance.now() - started,
      bytes: bytes.length,
      error: String(error),
    });
  }
}

send({ type: "ready" });
