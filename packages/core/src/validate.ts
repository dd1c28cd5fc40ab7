import type { z } from "zod";
import { ContractError } from "./errors.js";

/** Formats zod issues as `path: message` lines a human can act on. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
    return `${path}: ${issue.message}`;
  });
}

/** Parses `input` with `schema`, or throws a ContractError naming what was expected and what was wrong. */
export function parseContract<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = describeIssues(result.error);
  throw new ContractError(`Invalid ${what}: ${issues.join("; ")}`, issues, { cause: result.error });
}
