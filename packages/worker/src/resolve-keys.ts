import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { isOrderObject, type SliceMessage } from "@thumbs/core";

export interface SliceItem {
  index: number;
  /** The source key; undefined when a planned object can no longer be found in its key range. */
  key: string | undefined;
}

/**
 * The images of a slice with their order-wide indices. A `range` slice lists only its own key range:
 * from `startAfter` up to and including `lastKey`, so a worker never lists the whole order.
 */
export async function resolveSliceItems(s3: S3Client, slice: SliceMessage): Promise<SliceItem[]> {
  const { source, offset, count } = slice;
  if (source.kind === "keys") return source.keys.map((key, i) => ({ index: offset + i, key }));
  if (source.kind === "items") return source.items.map((item) => ({ index: item.index, key: item.key }));

  const keys: string[] = [];
  let token: string | undefined;
  let reachedEnd = false;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: slice.bucket,
        Prefix: source.prefix,
        ...(token ? { ContinuationToken: token } : { StartAfter: source.startAfter }),
        MaxKeys: Math.min(1000, count + 1),
      }),
    );
    for (const object of page.Contents ?? []) {
      if (!object.Key || !isOrderObject(object.Key)) continue;
      keys.push(object.Key);
      if (object.Key === source.lastKey || keys.length > count) {
        reachedEnd = true;
        break;
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && !reachedEnd);

  // The order's objects must not change after order-completed. If one vanished, its index is still
  // accounted for (as NotFound), so the order completes; extra objects are not part of the order.
  return Array.from({ length: count }, (_, i) => ({ index: offset + i, key: keys[i] }));
}
