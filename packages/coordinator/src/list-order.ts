import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from "@aws-sdk/client-s3";
import { ContractError, isOrderObject, ObjectKeySchema } from "@thumbs/core";

/**
 * The keys under an order's prefix, one listing page (up to 1,000 keys) at a time, so the coordinator
 * never holds the whole order. The listing's order and stability are not relied on: each key becomes
 * a planned image under its own identity, and a key listed twice is staged once.
 */
export async function* listOrderPages(
  s3: S3Client,
  bucket: string,
  prefix: string,
): AsyncGenerator<string[]> {
  for await (const page of paginateListObjectsV2(
    { client: s3, pageSize: 1000 },
    { Bucket: bucket, Prefix: prefix },
  )) {
    const keys = (page.Contents ?? []).flatMap((o) => (o.Key && isOrderObject(o.Key) ? [o.Key] : []));
    if (keys.length > 0) yield keys;
  }
}

/** An explicit key list in pages of the same size. */
export function* keyPages(keys: readonly string[], pageSize = 1000): Generator<string[]> {
  for (let at = 0; at < keys.length; at += pageSize) yield keys.slice(at, at + pageSize);
}

/**
 * The keys a manifest object lists, in pages: one key per line (read line by line, so a manifest of any
 * size streams through in flat memory), or a JSON array of strings (parsed whole: keep those to the
 * sizes an event could not carry, a few MB). Blank lines are skipped; each key is validated.
 */
export async function* manifestPages(
  s3: S3Client,
  bucket: string,
  key: string,
  pageSize = 1000,
): AsyncGenerator<string[]> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
    throw new ContractError(
      `Could not read the manifest s3://${bucket}/${key}: ${(error as Error).name}.`,
      [],
      {
        cause: error,
      },
    );
  });
  const lines = createInterface({ input: object.Body as Readable, crlfDelay: Number.POSITIVE_INFINITY });
  let page: string[] = [];
  let json: string[] | undefined;
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo += 1;
    if (json !== undefined || (lineNo === 1 && raw.trimStart().startsWith("["))) {
      json = [...(json ?? []), raw];
      continue;
    }
    const line = raw.trim();
    if (!line) continue;
    page.push(manifestKey(line, key, lineNo));
    if (page.length === pageSize) {
      yield page;
      page = [];
    }
  }
  if (json !== undefined) {
    yield* keyPages(parseJsonManifest(json.join("\n"), key), pageSize);
    return;
  }
  if (page.length > 0) yield page;
}

function manifestKey(value: unknown, manifest: string, where: number | string): string {
  const parsed = ObjectKeySchema.safeParse(value);
  if (!parsed.success) {
    throw new ContractError(
      `Manifest ${manifest}, entry ${where}: expected an S3 key (1-1,024 UTF-8 bytes), received ${JSON.stringify(value).slice(0, 80)}.`,
    );
  }
  return parsed.data;
}

function parseJsonManifest(text: string, manifest: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ContractError(
      `Manifest ${manifest} starts with "[" but is not a JSON array: ${(error as Error).message}`,
    );
  }
  if (!Array.isArray(parsed)) throw new ContractError(`Manifest ${manifest}: expected a JSON array of keys.`);
  return parsed.map((value, i) => manifestKey(value, manifest, i));
}
