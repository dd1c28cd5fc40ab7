import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface SecretsStandIn {
  /** For AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  endpoint: string;
  /** SecretIds asked for, in order. */
  requested: string[];
  close(): Promise<void>;
}

/**
 * Answers Secrets Manager's GetSecretValue (JSON 1.1 protocol) for one secret, as the deployed
 * secret would: the ElastiCache AUTH token the functions read at cold start. Nothing else.
 */
export async function startSecretsStandIn(secret: { arn: string; value: string }): Promise<SecretsStandIn> {
  const requested: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const target = req.headers["x-amz-target"];
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as {
        SecretId?: string;
      };
      if (SecretId) requested.push(SecretId);
      const found = target === "secretsmanager.GetSecretValue" && SecretId === secret.arn;
      res.writeHead(found ? 200 : 400, { "content-type": "application/x-amz-json-1.1" });
      res.end(
        JSON.stringify(
          found
            ? {
                ARN: secret.arn,
                Name: "redis-auth",
                SecretString: secret.value,
                VersionId: "v1",
                VersionStages: ["AWSCURRENT"],
                CreatedDate: Date.now() / 1000,
              }
            : { __type: "ResourceNotFoundException", message: `No secret ${SecretId} (${target})` },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requested,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
