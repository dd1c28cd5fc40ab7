import type { Redis } from "ioredis";
import {
  CLAIM_ANNOUNCEMENT,
  DISMISS_ERROR,
  END_ANNOUNCEMENT,
  INIT_ORDER,
  RECORD_OUTCOME,
  STAGE_KEYS,
} from "./ledger-scripts.js";

type ScriptCommand<R> = (...args: string[]) => Promise<R>;

/** Registers the scripts on the client once; ioredis then runs them by SHA (EVALSHA) with a fallback. */
export function ledgerScripts(redis: Redis) {
  const r = redis as unknown as Record<string, ScriptCommand<unknown> | undefined>;
  if (typeof r.thumbsInitOrder !== "function") {
    redis.defineCommand("thumbsInitOrder", { numberOfKeys: 13, lua: INIT_ORDER });
    redis.defineCommand("thumbsRecordOutcome", { numberOfKeys: 9, lua: RECORD_OUTCOME });
    redis.defineCommand("thumbsDismissError", { numberOfKeys: 2, lua: DISMISS_ERROR });
    redis.defineCommand("thumbsStageKeys", { numberOfKeys: 2, lua: STAGE_KEYS });
    redis.defineCommand("thumbsClaimAnnouncement", { numberOfKeys: 2, lua: CLAIM_ANNOUNCEMENT });
    redis.defineCommand("thumbsEndAnnouncement", { numberOfKeys: 2, lua: END_ANNOUNCEMENT });
  }
  const bind =
    <R>(name: string): ScriptCommand<R> =>
    (...args) =>
      r[name]!.apply(redis, args) as Promise<R>;
  return {
    init: bind<[number, string]>("thumbsInitOrder"),
    stage: bind<number>("thumbsStageKeys"),
    claim: bind<number | string>("thumbsClaimAnnouncement"),
    endClaim: bind<number>("thumbsEndAnnouncement"),
    record: bind<[number, number]>("thumbsRecordOutcome"),
    dismiss: bind<number>("thumbsDismissError"),
  };
}

export type LedgerScripts = ReturnType<typeof ledgerScripts>;
