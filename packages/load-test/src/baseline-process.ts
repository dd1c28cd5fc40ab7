// One pure-resize baseline process (started by baseline.ts): resizes the originals it is handed,
// as many at once as the parent keeps in flight, with the worker's own code and settings.
import { readFile } from "node:fs/promises";
import { DEFAULT_IMAGE_TIMEOUT_SECONDS, DEFAULT_MAX_INPUT_PIXELS, DEFAULT_OUTPUT } from "@thumbs/core";
import { applyHeapSettings, applyResizeSettings, makeThumbnails } from "@thumbs/worker";
import type { BaselineMessage, BaselineReply } from "./baseline.js";

applyResizeSettings();
applyHeapSettings();
const limits = { maxInputPixels: DEFAULT_MAX_INPUT_PIXELS, timeoutSeconds: DEFAULT_IMAGE_TIMEOUT_SECONDS };
const send = (message: BaselineReply) => process.send?.(message);
let cpuAtFirstJob: NodeJS.CpuUsage | undefined;
let inFlight = 0;
let ending = false;

process.on("message", (message: BaselineMessage) => {
  if (message.type === "end") {
    ending = true;
    return finishWhenIdle();
  }
  cpuAtFirstJob ??= process.cpuUsage();
  inFlight += 1;
  void resizeOne(message.index, message.path);
});

function finishWhenIdle(): void {
  if (!ending || inFlight > 0) return;
  ending = false;
  const cpu = process.cpuUsage(cpuAtFirstJob);
  send({ type: "finished", cpuMs: (cpu.user + cpu.system) / 1000 });
  process.disconnect();
}

async function resizeOne(index: number, path: string): Promise<void> {
  // Reading the file is outside the timed span: in the pipeline the GET is overhead.
  const bytes = await readFile(path);
  const started = performance.now();
  const error = await makeThumbnails(bytes, DEFAULT_OUTPUT, limits).then(() => undefined, String);
  send({
    type: "result",
    index,
    ms: performance.now() - started,
    bytes: bytes.length,
    ...(error ? { error } : {}),
  });
  inFlight -= 1;
  finishWhenIdle();
}

send({ type: "ready" });
