import { paginateListObjectsV2, type S3Client } from "@aws-sdk/client-s3";
import { isOrderObject } from "@thumbs/core";

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
