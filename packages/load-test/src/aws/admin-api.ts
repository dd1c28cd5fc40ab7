import type { AwsCredentialIdentity, Provider } from "@smithy/types";
import { adminApiSigner, regionOfApiUrl, signAdminRequest } from "@thumbs/error-consumer";

/** The region of an API Gateway URL such as https://abc123.execute-api.eu-west-1.amazonaws.com/. */
export function regionFromApiUrl(url: string): string {
  const region = regionOfApiUrl(new URL(url));
  if (!region) {
    throw new Error(
      `Expected an API Gateway URL like https://<id>.execute-api.<region>.amazonaws.com/, received ${url}. Pass --region for a custom domain.`,
    );
  }
  return region;
}

/**
 * A GET to the IAM-authorized admin API, signed with SigV4 for execute-api. Returns the URL and the
 * headers to send (Authorization, X-Amz-Date, the session token when the credentials have one).
 */
export async function signAdminGet(
  baseUrl: string,
  path: string,
  query: Record<string, string>,
  credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>,
  region: string,
  signingDate?: Date,
): Promise<{ url: string; headers: Record<string, string> }> {
  const signed = await signAdminRequest(adminApiSigner(region, credentials), new URL(baseUrl), {
    method: "GET",
    path,
    query,
    headers: { accept: "application/json" },
    ...(signingDate ? { signingDate } : {}),
  });
  return { url: signed.url.toString(), headers: signed.headers };
}

export interface AdminOrder {
  orderId: string;
  total: number;
  done: number;
  failed: number;
  pending: number;
  slices: number;
  status: string;
  complete: boolean;
  createdAt: string;
  completedAt: string | null;
}

export interface AdminErrorPage {
  records: Array<{ index: number; key: string; class: string; message: string }>;
  total: number;
}

/** The admin API's two reads the load test needs. */
export function adminApiClient(
  baseUrl: string,
  credentials: Provider<AwsCredentialIdentity>,
  region: string,
  fetchImpl: typeof fetch = fetch,
) {
  const get = async <T>(path: string, query: Record<string, string> = {}): Promise<T | undefined> => {
    const { url, headers } = await signAdminGet(baseUrl, path, query, credentials, region);
    const response = await fetchImpl(url, { headers });
    if (response.status === 404) return undefined;
    if (!response.ok) {
      throw new Error(
        `The admin API answered ${response.status} to GET ${path}: ${(await response.text()).slice(0, 300)}. ` +
          "A 403 means these credentials lack execute-api:Invoke on the admin API.",
      );
    }
    return (await response.json()) as T;
  };
  return {
    /** The order's progress, or undefined while the coordinator has not recorded it yet. */
    getOrder: (orderId: string) => get<AdminOrder>(`/orders/${encodeURIComponent(orderId)}`),
    listErrors: async (orderId: string) => {
      const records: AdminErrorPage["records"] = [];
      for (let offset = 0; ; offset += 100) {
        const page = await get<AdminErrorPage>(`/orders/${encodeURIComponent(orderId)}/errors`, {
          offset: String(offset),
          limit: "100",
        });
        records.push(...(page?.records ?? []));
        if (!page || records.length >= page.total || page.records.length === 0) return records;
      }
    },
  };
}
