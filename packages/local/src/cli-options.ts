import { InvalidArgumentError } from "commander";

/**
 * Commander argument parsers for numeric options, shared by the repository's CLIs so that every one
 * refuses a bad value the same way: naming the accepted range and the value it received.
 */
export function intOption(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, received "${value}"`);
    return n;
  };
}

/** A number from `min` to `max`, both included. */
export function numberOption(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!(n >= min && n <= max))
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}, received "${value}"`);
    return n;
  };
}
