import { createReadStream } from "node:fs";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { Upload as ManagedUpload } from "@aws-sdk/lib-storage";
import pLimit from "p-limit";
import { describeUploadFailure, UPLOAD_PART_BYTES, UploadError } from "./upload-errors.js";

/** An image to upload: bytes in memory or a file on disk (read only when its turn comes). */
export type Upload = { name: string; data: Buffer } | { name: string; path: string };

/** A file that could not be uploaded, and why, in words that say what to do. */
export interface UploadFailure {
  name: string;
  key: string;
  /** Its size, when the file could be read. */
  bytes: number | undefined;
  message: string;
}

export interface UploadOptions {
  /**
   * Files larger than this go up in parts of this size (S3 multipart upload). At least 5 MiB, S3's
   * smallest part; at most 11 MiB, the largest request the local emulator (fauxqs) accepts.
   */
  partBytes?: number;
}

/**
 * Uploads an order's originals under `prefix`, as the backend would before emitting order-completed,
 * and reports each file that could not be uploaded instead of giving up on the rest.
 */
export async function uploadEach(
  s3: S3Client,
  bucket: string,
  prefix: string,
  uploads: Upload[],
  options: UploadOptions = {},
): Promise<{ keys: string[]; failures: UploadFailure[] }> {
  const partBytes = options.partBytes ?? UPLOAD_PART_BYTES;
  const limit = pLimit(16);
  const outcomes = await Promise.all(
    uploads.map((upload) => limit(() => uploadOne(s3, bucket, `${prefix}${upload.name}`, upload, partBytes))),
  );
  return {
    keys: outcomes.flatMap((o) => (typeof o === "string" ? [o] : [])),
    failures: outcomes.flatMap((o) => (typeof o === "string" ? [] : [o])),
  };
}

/** Uploads an order's originals under `prefix`; throws, naming every file that failed, if any did. */
export async function uploadOrder(
  s3: S3Client,
  bucket: string,
  prefix: string,
  uploads: Upload[],
  options: UploadOptions = {},
): Promise<string[]> {
  const { keys, failures } = await uploadEach(s3, bucket, prefix, uploads, options);
  if (failures.length > 0) throw new UploadError(failures, uploads.length);
  return keys;
}

async function uploadOne(
  s3: S3Client,
  bucket: string,
  key: string,
  upload: Upload,
  partBytes: number,
): Promise<string | UploadFailure> {
  let bytes: number | undefined;
  try {
    bytes = "data" in upload ? upload.data.length : (await stat(upload.path)).size;
    // A stream, so a folder of large files is read a part at a time rather than held whole.
    const body = "data" in upload ? upload.data : createReadStream(upload.path);
    // Upload sends one PutObject when the body fits in one part, a multipart upload otherwise.
    await new ManagedUpload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: body },
      partSize: partBytes,
      queueSize: 2,
    }).done();
    return key;
  } catch (error) {
    return {
      name: upload.name,
      key,
      bytes,
      message: describeUploadFailure(upload, bytes, bucket, key, error, partBytes),
    };
  }
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
