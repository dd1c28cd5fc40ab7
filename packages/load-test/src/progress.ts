import cliProgress from "cli-progress";

/** Status lines and one progress bar at a time; a plain line per phase when the bar is off. */
export interface Progress {
  status(line: string): void;
  start(label: string, total: number, payload?: Record<string, number>): void;
  update(value: number, payload?: Record<string, number>): void;
  stop(): void;
}

/** A cli-progress bar on a terminal; with `bar: false` (CI, logs, tests) only the phase lines. */
export function createProgress(options: { bar: boolean; print?: (line: string) => void }): Progress {
  const print = options.print ?? ((line: string) => console.log(line));
  let bar: cliProgress.SingleBar | undefined;
  let current: { label: string; total: number; started: number } | undefined;
  return {
    status: print,
    start: (label, total, payload = {}) => {
      current = { label, total, started: performance.now() };
      if (!options.bar) return;
      const counts = "done" in payload ? " | done {done} | failed {failed}" : "";
      bar = new cliProgress.SingleBar(
        {
          format: `${label.padEnd(9)} {bar} {value}/{total}${counts} | {duration_formatted}`,
          hideCursor: true,
          // Redraw at most 10 times a second: the bar must not steal CPU from the run it measures.
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, payload);
    },
    update: (value, payload) => bar?.update(value, payload),
    stop: () => {
      if (bar) bar.stop();
      else if (current) {
        const seconds = ((performance.now() - current.started) / 1000).toFixed(1);
        print(`${current.label}: ${current.total} in ${seconds} s`);
      }
      bar = undefined;
      current = undefined;
    },
  };
}
