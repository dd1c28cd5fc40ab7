import type { FailureClass } from "@thumbs/core";

/** The shape of one bad-input case and its expected outcome (see hostile-inputs.ts). */

export type Size = readonly [width: number, height: number];

export type HostileExpectation =
  | { class: FailureClass; message: RegExp }
  | { thumbnails: { large: Size; small: Size; check?(large: Buffer, small: Buffer): Promise<void> } };

export interface HostileCase {
  name: string;
  /** The S3 key after the order's prefix; some are odd on purpose. */
  key: string;
  data: Buffer;
  expect: HostileExpectation;
}

/** Worker limits the suite runs with, small enough to test both sides of each without huge files. */
export const HOSTILE_LIMITS = { maxInputPixels: 20_000_000, maxInputBytes: 8 * 1024 * 1024 };

/** The default sizes (large 1024², small 256², fit inside, never enlarged) of a `width`×`height` picture. */
export function thumbnailsOf(
  width: number,
  height: number,
  check?: (large: Buffer, small: Buffer) => Promise<void>,
): HostileExpectation {
  const fitted = (box: number): Size => {
    const scale = Math.min(1, box / width, box / height);
    return [Math.round(width * scale), Math.round(height * scale)];
  };
  return { thumbnails: { large: fitted(1024), small: fitted(256), check } };
}

export const failsAs = (failureClass: FailureClass, message: RegExp): HostileExpectation => ({
  class: failureClass,
  message,
});
