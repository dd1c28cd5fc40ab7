import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { isOrderObject, RangePlanner } from "@thumbs/core";

/**
 * Lists an order's prefix page by page (1,000 keys a request) into a RangePlanner, which keeps one
 * boundary key per chunk rather than every key: memory stays flat however large the order.
 */
export async function listOrderRanges(
  s3: S3Client,
  bucket: string,
  prefix: string,
  chunkSize: number,
): Promise<RangePlanner> {
  const planner = new RangePlanner(chunkSize);
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: 1000 }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key && isOrderObject(object.Key)) planner.add(object.Key);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return planner;
}
