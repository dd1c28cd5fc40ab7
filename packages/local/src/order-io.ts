import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import pLimit from "p-limit";

/** An image to upload: bytes in memory or a file on disk (read only when its turn comes). */
export type Upload = { name: string; data: Buffer } | { name: string; path: string };

/** Uploads an order's originals under `prefix`, as the backend would before emitting order-completed. */
export async function uploadOrder(
  s3: S3Client,
  bucket: string,
  prefix: string,
  uploads: Upload[],
): Promise<string[]> {
  const limit = pLimit(16);
  return Promise.all(
    uploads.map((upload) =>
      limit(async () => {
        const key = `${prefix}${upload.name}`;
        const body = "data" in upload ? upload.data : await readFile(upload.path);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        return key;
      }),
    ),
  );
}

/** Lists every object under a prefix. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Downloads every thumbnail of an order into `outDir`, keeping the `{orderId}/{size}/…` layout. */
export async function downloadThumbnails(
  s3: S3Client,
  bucket: string,
  prefix: string,
  outDir: string,
): Promise<number> {
  const keys = await listKeys(s3, bucket, prefix);
  const limit = pLimit(16);
  await Promise.all(
    keys.map((key) =>
      limit(async () => {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const target = join(outDir, key);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, await object.Body!.transformToByteArray());
      }),
    ),
  );
  return keys.length;
}
