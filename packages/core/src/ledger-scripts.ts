/**
 * Lua scripts that keep an order's accounting exact under retries, duplicate deliveries and concurrent
 * workers. Redis runs each script atomically, so "count once" and "complete once" need no locks.
 */

/** Shared tail: marks the order complete (once) when every image is accounted for. */
const COMPLETE_IF_ACCOUNTED = `
-- A dismissed error record that goes away (or is replaced by a fresh failure) leaves the dismissed count.
local function undismiss(meta, errors, idx)
  local old = redis.call('HGET', errors, idx)
  if old and cjson.decode(old).dismissedAt then redis.call('HINCRBY', meta, 'dismissed', -1) end
end

local function finish(meta, completions, ttl, now, orderId, channel)
  local total = tonumber(redis.call('HGET', meta, 'total'))
  local d = tonumber(redis.call('HGET', meta, 'done') or '0')
  local f = tonumber(redis.call('HGET', meta, 'failed') or '0')
  local threshold = tonumber(redis.call('HGET', meta, 'threshold') or '0')
  local status = 'running'
  if d + f >= total then
    if f == 0 then status = 'succeeded' else status = 'completed_with_errors' end
  end
  -- Past the order's failure threshold the order is failed at once, before every image is accounted for.
  if threshold > 0 and f * 100 > threshold * total then
    status = 'failed'
    if redis.call('HSETNX', meta, 'failedAt', now) == 1 then
      redis.call('HSET', meta, 'failureReason', string.format(
        '%d of %d images failed (%.1f%%), over the order failure threshold of %s%%', f, total, f * 100 / total, threshold))
      redis.call('PUBLISH', channel .. ':failed', orderId)
    end
  else
    redis.call('HDEL', meta, 'failedAt', 'failureReason')
  end
  redis.call('HSET', meta, 'status', status)
  -- A change to a complete order (a retry, a late success) is a new revision: its event goes out again.
  if redis.call('HEXISTS', meta, 'completedAt') == 1 then redis.call('HINCRBY', meta, 'revision', 1) end
  if d + f >= total and redis.call('HSETNX', meta, 'completedAt', now) == 1 then
    redis.call('XADD', completions, 'MAXLEN', '~', 10000, '*',
      'orderId', orderId, 'total', total, 'done', d, 'failed', f, 'at', now)
    redis.call('EXPIRE', completions, ttl)
    redis.call('PUBLISH', channel, orderId)
    return 1
  end
  return 0
end
`;

/**
 * Adds one page of listed (or given) keys to a coordinator run's staging plan. A key already staged
 * keeps its index: a listing that repeats a key cannot give one image two indices.
 * KEYS: stagingKeys (i → key), stagingIndex (key → i)
 * ARGV: ttlSeconds, key…
 * Returns the number of images staged so far.
 */
export const STAGE_KEYS = `
local n = redis.call('HLEN', KEYS[1])
for i = 2, #ARGV do
  if redis.call('HSETNX', KEYS[2], ARGV[i], n) == 1 then
    redis.call('HSET', KEYS[1], n, ARGV[i])
    n = n + 1
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return n
`;

/**
 * Commits a staged plan as the order's plan, once. Concurrent or repeated runs for one order find it
 * planned: with the same identity (bucket, source, output spec) they keep it and its progress; with
 * another they are refused. Either way their own staging plan is dropped.
 * KEYS: meta, orders, completions, done, failed, errors, errorsAt, keys, index, stagingKeys, stagingIndex,
 *       attempts, announce
 * ARGV: orderId, total, nowMs, ttlSeconds, bucket, source, channel, identity, prefix, outputJson,
 *       thresholdPercent (0 = none)
 * Returns {1, total} when created, {0, identity} when it already existed with the same identity,
 * {-1, identity} when it exists with another (the existing identity is returned to name the difference).
 */
export const INIT_ORDER = `${COMPLETE_IF_ACCOUNTED}
local existing = redis.call('HGET', KEYS[1], 'identity')
if existing then
  redis.call('DEL', KEYS[10], KEYS[11])
  if existing ~= ARGV[8] then return {-1, existing} end
  return {0, existing}
end
local ttl = tonumber(ARGV[4])
local total = tonumber(ARGV[2])
if redis.call('HLEN', KEYS[10]) ~= total then return {-2, tostring(redis.call('HLEN', KEYS[10]))} end
-- A new order starts from nothing: whatever survived of an earlier order of this id whose meta was lost
-- (bitmaps, records, starts, a claim, a plan) would skew it.
redis.call('DEL', KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[12], KEYS[13])
if total > 0 then
  redis.call('RENAME', KEYS[10], KEYS[8])
  redis.call('RENAME', KEYS[11], KEYS[9])
  redis.call('EXPIRE', KEYS[8], ttl)
  redis.call('EXPIRE', KEYS[9], ttl)
end
redis.call('HSET', KEYS[1], 'orderId', ARGV[1], 'total', ARGV[2], 'done', 0, 'failed', 0, 'slices', 0,
  'createdAt', ARGV[3], 'status', 'running', 'bucket', ARGV[5], 'source', ARGV[6], 'identity', ARGV[8],
  'prefix', ARGV[9], 'output', ARGV[10], 'dismissed', 0, 'threshold', ARGV[11])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[3]) - ttl * 1000)
redis.call('EXPIRE', KEYS[2], ttl)
if total == 0 then finish(KEYS[1], KEYS[3], ttl, ARGV[3], ARGV[1], ARGV[7]) end
return {1, ARGV[2]}
`;

/**
 * KEYS: meta, done, failed, errors, errorsAt, completions, attempts, keys, index
 * ARGV: index, outcome ('done' | 'failed'), errorRecordJson, nowMs, ttlSeconds, orderId, channel
 * Returns {counted, completed}; counted = -1 when the order is unknown, -2 when the index is out of range.
 * A done image stays done (a later failed redelivery changes nothing); a failed image that later
 * succeeds moves from failed to done, and its error record goes away. Any outcome ends the image's
 * count of unfinished starts (attempts).
 */
export const RECORD_OUTCOME = `${COMPLETE_IF_ACCOUNTED}
local idx = tonumber(ARGV[1])
local total = redis.call('HGET', KEYS[1], 'total')
if not total then return {-1, 0} end
if idx < 0 or idx >= tonumber(total) then return {-2, 0} end
local ttl = tonumber(ARGV[5])
local counted = 0
redis.call('HDEL', KEYS[7], ARGV[1], ARGV[1] .. ':by')
if ARGV[2] == 'done' then
  if redis.call('SETBIT', KEYS[2], idx, 1) == 0 then
    counted = 1
    redis.call('HINCRBY', KEYS[1], 'done', 1)
    if redis.call('SETBIT', KEYS[3], idx, 0) == 1 then
      redis.call('HINCRBY', KEYS[1], 'failed', -1)
      undismiss(KEYS[1], KEYS[4], idx)
      redis.call('HDEL', KEYS[4], idx)
      redis.call('ZREM', KEYS[5], idx)
    end
  end
else
  if redis.call('GETBIT', KEYS[2], idx) == 1 then return {0, 0} end
  if redis.call('SETBIT', KEYS[3], idx, 1) == 0 then
    counted = 1
    redis.call('HINCRBY', KEYS[1], 'failed', 1)
  end
  undismiss(KEYS[1], KEYS[4], idx)
  redis.call('HSET', KEYS[4], idx, ARGV[3])
  redis.call('ZADD', KEYS[5], ARGV[4], idx)
end
for _, i in ipairs({1, 2, 3, 4, 5, 7, 8, 9}) do redis.call('EXPIRE', KEYS[i], ttl) end
local completed = 0
if counted == 1 then completed = finish(KEYS[1], KEYS[6], ttl, ARGV[4], ARGV[6], ARGV[7]) end
return {counted, completed}
`;

/**
 * Claims the publishing of an order's completion event: only when the order is complete, its event (or,
 * after a later change, its update) not yet sent, and no one else holds the claim. The claimant names a unit of work that is retried under
 * the same name (a slice, one coordinator event), so a retry of a claimant that died takes its claim
 * back at once; anyone else waits for the claim to lapse.
 * A claim held by a dead invocation of the same unit may be named in ARGV[3] (checked by the caller,
 * which read its lease): it is taken over, but only while it is still that claim.
 * KEYS: meta, announce
 * ARGV: claimant, ttlMs, replaceable holder ('' for none)
 * Returns 1 when claimed; 0 when there is nothing to announce; the holder's name when another holds it.
 */
export const CLAIM_ANNOUNCEMENT = `
local state = redis.call('HMGET', KEYS[1], 'completedAt', 'announcedAt', 'revision', 'announcedRevision')
if not state[1] then return 0 end
if state[2] and tonumber(state[3] or '0') <= tonumber(state[4] or '0') then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] and (ARGV[3] == '' or holder ~= ARGV[3]) then return holder end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * Ends a claim: with 'sent' the event is recorded as published (the first time wins); without, the
 * claim is given up so another can publish. Only the claimant's own claim is removed.
 * KEYS: meta, announce
 * ARGV: claimant, nowMs, 'sent' | 'released', revision sent
 */
export const END_ANNOUNCEMENT = `
if ARGV[3] == 'sent' and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSETNX', KEYS[1], 'announcedAt', ARGV[2])
  if tonumber(ARGV[4]) > tonumber(redis.call('HGET', KEYS[1], 'announcedRevision') or '0') then
    redis.call('HSET', KEYS[1], 'announcedRevision', ARGV[4])
  end
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
`;

/**
 * KEYS: meta, errors
 * ARGV: index, dismissedAtIso
 * Marks an error record as dismissed by the admin (it stays failed: the image still has no thumbnails).
 * Returns 0 when there is no record, 1 when it was already dismissed, 2 when dismissed now.
 */
export const DISMISS_ERROR = `
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return 0 end
local record = cjson.decode(raw)
if record.dismissedAt then return 1 end
record.dismissedAt = ARGV[2]
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(record))
redis.call('HINCRBY', KEYS[1], 'dismissed', 1)
return 2
`;
