import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";

/** The coordinator's AWS clients; endpoints come from the SDK's own settings (AWS_ENDPOINT_URL locally). */
export function createCoordinatorClients(options: { forcePathStyle: boolean }): {
  s3: S3Client;
  sns: SNSClient;
} {
  return { s3: new S3Client({ forcePathStyle: options.forcePathStyle }), sns: new SNSClient({}) };
}
