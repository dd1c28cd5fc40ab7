import type { SNSClient } from "@aws-sdk/client-sns";
import type { OrderLedger } from "@thumbs/core";
import type { S3Objects } from "@thumbs/worker";
import type { ApiConfig } from "./config.js";

/** What the admin API core works with; both adapters build it once and pass it in. */
export interface AdminDeps {
  ledger: OrderLedger;
  /** Originals and thumbnails on demand as the worker reads and writes them; `.client` for the rest. */
  s3: S3Objects;
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
