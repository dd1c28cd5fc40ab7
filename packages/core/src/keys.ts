import { createHash } from "node:crypto";
import type { OutputFormat } from "./contracts.js";

const EXTENSIONS: Record<OutputFormat, string> = { jpeg: "jpg", webp: "webp" };
export const CONTENT_TYPES: Record<OutputFormat, string> = { jpeg: "image/jpeg", webp: "image/webp" };

/** A short, stable fingerprint of a source key: makes thumbnail keys unique whatever the readable part. */
export const keyFingerprint = (sourceKey: string): string =>
  createHash("sha256").update(sourceKey, "utf8").digest("hex").slice(0, 16);

/** The readable part of a thumbnail key: the source file's base name in a safe alphabet, bounded. */
export function readableStem(sourceKey: string): string {
  const base = sourceKey.split("/").filter(Boolean).pop() ?? "";
  const stem = base.includes(".") ? base.slice(0, base.lastIndexOf(".")) : base;
  const safe = stem
    // Accents come off their letters (`Été` → `Ete`, not `E_te`): NFKD splits them into combining marks.
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/\.{2,}/g, "_")
    .replace(/^[._-]+|[._-]+$/g, "")
    .slice(0, 80);
  return safe || "image";
}

/**
 * The thumbnail key of `sourceKey` at `size`: `{prefix}{orderId}/{size}/{stem}-{fingerprint}.{ext}`.
 * Deterministic, so a retried or redelivered image overwrites its thumbnail instead of adding one,
 * and bounded (well under S3's 1,024 bytes) whatever the source key looks like.
 */
export function thumbnailKey(args: {
  prefix: string;
  orderId: string;
  size: string;
  sourceKey: string;
  format: OutputFormat;
}): string {
  const { prefix, orderId, size, sourceKey, format } = args;
  return `${prefix}${orderId}/${size}/${readableStem(sourceKey)}-${keyFingerprint(sourceKey)}.${EXTENSIONS[format]}`;
}

/**
 * Which listed objects count as images of an order. Folder markers (`…/`) are not images;
 * everything else is, so a stray non-image ends as an error record instead of being silently skipped.
 */
export const isOrderObject = (key: string): boolean => !key.endsWith("/");
