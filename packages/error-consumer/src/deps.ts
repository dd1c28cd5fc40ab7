import type { S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { OrderLedger } from "@thumbs/core";
import type { ApiConfig } from "./config.js";

/** What the admin API core works with; both adapters build it once and pass it in. */
export interface AdminDeps {
  ledger: OrderLedger;
  s3: S3Client;
  sns: SNSClient;
  config: Pick<
    ApiConfig,
    | "apiToken"
    | "sliceTopicArn"
    | "sliceSize"
    | "thumbnailBucket"
    | "thumbnailPrefix"
    | "maxInputBytes"
    | "maxInputPixels"
    | "imageTimeoutSeconds"
  > &
    // Optional for callers that build the config by hand: the defaults in config.ts apply.
    Partial<Pick<ApiConfig, "onDemandTimeoutSeconds" | "thumbnailUrlSeconds" | "orderEventsTopicArn">>;
}
