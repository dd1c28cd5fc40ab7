import { type LocalStack, samplePhotos, uploadOrder } from "@thumbs/local";

/** Small photos under the given names, uploaded under `orders/{orderId}/`; returns their keys. */
export async function uploadNamed(
  stack: LocalStack,
  orderId: string,
  names: readonly string[],
): Promise<string[]> {
  const photos = await samplePhotos(names.length, { seed: orderId, megapixels: 0.05 });
  const uploads = names.map((name, i) => ({ name, data: photos[i]!.data }));
  return uploadOrder(
    stack.emulator.clients.s3,
    stack.emulator.resources.sourceBucket,
    `orders/${orderId}/`,
    uploads,
  );
}
