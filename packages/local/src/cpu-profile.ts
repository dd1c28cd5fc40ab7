import { mkdir, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

/**
 * Starts V8's CPU profiler in this process, as `node --cpu-prof` would; the returned function stops it
 * and writes `<dir>/worker-<pid>.cpuprofile` (opens in Chrome DevTools' Performance panel). For the
 * local worker processes: `--cpu-prof` is not allowed in NODE_OPTIONS, and the pool forks them
 * without execArgv, as Lambda starts a plain Node. Without a folder it does nothing.
 */
export async function startCpuProfile(dir: string | undefined): Promise<() => Promise<void>> {
  if (!dir) return async () => {};
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  // --cpu-prof's default interval, so profiles taken either way compare.
  await session.post("Profiler.setSamplingInterval", { interval: 1000 });
  await session.post("Profiler.start");
  return async () => {
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `worker-${process.pid}.cpuprofile`), JSON.stringify(profile));
  };
}
