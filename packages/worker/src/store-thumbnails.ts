import { DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { classifyS3Error, type OutputFormat, thumbnailKey } from "@thumbs/core";
import type { Thumbnail } from "./resize.js";
import type { S3Objects } from "./s3-objects.js";

export interface StoreTarget {
  bucket: string;
  prefix: string;
  orderId: string;
  sourceKey: string;
  format: OutputFormat;
}

/** Writes every thumbnail of one image, in parallel; returns their keys. */
export async function storeThumbnails(
  s3: S3Objects,
  target: StoreTarget,
  thumbnails: Thumbnail[],
  signal?: AbortSignal,
): Promise<string[]> {
  return Promise.all(
    thumbnails.map(async (t) => {
      const key = thumbnailKey({
        prefix: target.prefix,
        orderId: target.orderId,
        size: t.size.name,
        sourceKey: target.sourceKey,
        format: target.format,
      });
      try {
        await s3.put(target.bucket, key, t.data, {
          contentType: t.contentType,
          // Keys are deterministic and content only changes on a retry of a broken original.
          cacheControl: "public, max-age=86400",
          metadata: { "order-id": target.orderId, width: String(t.width), height: String(t.height) },
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        throw classifyS3Error(error, "write");
      }
      return key;
    }),
  );
}

/**
 * Deletes whatever thumbnails of one image exist (a part written before a failure, or by an invocation
 * that died before recording done), so an image recorded as failed has no thumbnails: exactly one of
 * the two outcomes. Deleting a key that is not there is not an error in S3.
 */
export async function removeThumbnails(
  s3: S3Client,
  target: StoreTarget,
  sizes: readonly { name: string }[],
): Promise<void> {
  await Promise.all(
    sizes.map(async (size) => {
      const key = thumbnailKey({
        prefix: target.prefix,
        orderId: target.orderId,
        size: size.name,
        sourceKey: target.sourceKey,
        format: target.format,
      });
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key }));
      } catch (error) {
        throw classifyS3Error(error, "write");
      }
    }),
  );
}
