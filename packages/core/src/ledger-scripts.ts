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
 * KEYS: meta, orders, completions, done, failed, errors, errorsAt
 * ARGV: orderId, total, slices, nowMs, ttlSeconds, bucket, source, channel, fingerprint, prefix, outputJson,
 *       thresholdPercent (0 = none)
 * Returns {1, total} when created, {0, total} when it already existed with the same images,
 * {-1, existingTotal} when it exists with other images (different total or key-set fingerprint).
 */
export const INIT_ORDER = `${COMPLETE_IF_ACCOUNTED}
local existing = redis.call('HGET', KEYS[1], 'total')
if existing then
  if tonumber(existing) ~= tonumber(ARGV[2]) or redis.call('HGET', KEYS[1], 'fingerprint') ~= ARGV[9] then
    return {-1, tonumber(existing)}
  end
  return {0, tonumber(existing)}
end
local ttl = tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'orderId', ARGV[1], 'total', ARGV[2], 'done', 0, 'failed', 0, 'slices', ARGV[3],
  'createdAt', ARGV[4], 'status', 'running', 'bucket', ARGV[6], 'source', ARGV[7], 'fingerprint', ARGV[9],
  'prefix', ARGV[10], 'output', ARGV[11], 'dismissed', 0, 'threshold', ARGV[12])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[4]) - ttl * 1000)
redis.call('EXPIRE', KEYS[2], ttl)
if tonumber(ARGV[2]) == 0 then finish(KEYS[1], KEYS[3], ttl, ARGV[4], ARGV[1], ARGV[8]) end
return {1, tonumber(ARGV[2])}
`;

/**
 * KEYS: meta, done, failed, errors, errorsAt, completions
 * ARGV: index, outcome ('done' | 'failed'), errorRecordJson, nowMs, ttlSeconds, orderId, channel
 * Returns {counted, completed}; counted = -1 when the order is unknown, -2 when the index is out of range.
 * A done image stays done (a later failed redelivery changes nothing); a failed image that later
 * succeeds moves from failed to done, and its error record goes away.
 */
export const RECORD_OUTCOME = `${COMPLETE_IF_ACCOUNTED}
local idx = tonumber(ARGV[1])
local total = redis.call('HGET', KEYS[1], 'total')
if not total then return {-1, 0} end
if idx < 0 or idx >= tonumber(total) then return {-2, 0} end
local ttl = tonumber(ARGV[5])
local counted = 0
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
for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ttl) end
local completed = 0
if counted == 1 then completed = finish(KEYS[1], KEYS[6], ttl, ARGV[4], ARGV[6], ARGV[7]) end
return {counted, completed}
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
