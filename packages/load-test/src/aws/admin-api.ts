import type { AwsCredentialIdentity, Provider } from "@smithy/types";
import { ErrorRecordSchema, ORDER_STATUSES, type OrderProgress } from "@thumbs/core";
import { adminApiSigner, regionOfApiUrl, signAdminRequest } from "@thumbs/error-consumer";
import { z } from "zod";

/** The region of an API Gateway URL such as https://abc123.execute-api.eu-west-1.amazonaws.com/. */
export function regionFromApiUrl(url: string): string {
  const region = regionOfApiUrl(new URL(url));
  if (region) return region;
  throw new Error(
    `Expected an API Gateway URL like https://<id>.execute-api.<region>.amazonaws.com/, received ${url}. Pass --region for a custom domain.`,
  );
}

/** A GET to the IAM-authorized admin API, signed with SigV4 for execute-api: the URL and headers to send. */
export async function signAdminGet(
  baseUrl: string,
  path: string,
  query: Record<string, string>,
  credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>,
  region: string,
  signingDate?: Date,
): Promise<{ url: string; headers: Record<string, string> }> {
  const request = {
    method: "GET",
    path,
    query,
    headers: { accept: "application/json" },
    ...(signingDate ? { signingDate } : {}),
  };
  const signed = await signAdminRequest(adminApiSigner(region, credentials), new URL(baseUrl), request);
  return { url: signed.url.toString(), headers: signed.headers };
}

const AdminOrderSchema = z.object({
  total: z.number(),
  done: z.number(),
  failed: z.number(),
  slices: z.number(),
  status: z.enum(ORDER_STATUSES),
  complete: z.boolean(),
  completedAt: z.string().nullable(),
}) satisfies z.ZodType<
  Pick<OrderProgress, "total" | "done" | "failed" | "slices" | "status" | "complete" | "completedAt">
>;

export type AdminOrder = z.infer<typeof AdminOrderSchema>;

const ErrorPageSchema = z.object({ records: z.array(ErrorRecordSchema), total: z.number() });

/** The admin API's two reads the load test needs: an order's progress (undefined until recorded) and its errors. */
export function adminApiClient(
  baseUrl: string,
  credentials: Provider<AwsCredentialIdentity>,
  region: string,
  fetchImpl = fetch,
) {
  const get = async <T>(schema: z.ZodType<T>, path: string, query: Record<string, string> = {}) => {
    const { url, headers } = await signAdminGet(baseUrl, path, query, credentials, region);
    const response = await fetchImpl(url, { headers });
    if (response.status === 404) return undefined;
    if (!response.ok) {
      throw new Error(
        `The admin API answered ${response.status} to GET ${path}: ${(await response.text()).slice(0, 300)}. A 403 means these credentials lack execute-api:Invoke on it.`,
      );
    }
    return schema.parse(await response.json());
  };
  const orderPath = (orderId: string) => `/orders/${encodeURIComponent(orderId)}`;
  return {
    getOrder: (orderId: string) => get(AdminOrderSchema, orderPath(orderId)),
    listErrors: async (orderId: string) => {
      const records: z.infer<typeof ErrorRecordSchema>[] = [];
      let page: z.infer<typeof ErrorPageSchema> | undefined;
      do {
        // 500 is the admin API's largest page.
        page = await get(ErrorPageSchema, `${orderPath(orderId)}/errors`, {
          offset: String(records.length),
          limit: "500",
        });
        records.push(...(page?.records ?? []));
      } while (page && page.records.length > 0 && records.length < page.total);
      return records;
    },
  };
}
