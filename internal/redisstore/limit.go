package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ipqsbot/ipqsbot/guard"
)

var _ guard.SharedCounters = (*Store)(nil)

// chargeScript takes one lookup from every counter in KEYS, or from none.
// ARGV[1] is the caller's time in Unix milliseconds. Then come three values
// for each key: the limit, the refill period in milliseconds, and the end of
// the count in Unix milliseconds.
//
// A counter with a period is a token bucket, stored as a hash of its tokens
// and the time of its last refill. A missing bucket is full, so the key
// expires when the bucket would be full again. A time before the last refill,
// from a clock behind the others, adds no tokens. A counter without a period
// is a count that expires at its end.
//
// The script returns {0, 0} when it charged every counter, or else {i, ms}:
// counter i, counting from 1, allows a lookup last, in ms milliseconds.
var chargeScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local epsilon = 1e-9
local buckets = {}
local denied, deniedWait = 0, 0

for i = 1, #KEYS do
	local limit = tonumber(ARGV[3 * i - 1])
	local period = tonumber(ARGV[3 * i])
	local ends = tonumber(ARGV[3 * i + 1])
	local wait = 0

	if period > 0 then
		local state = redis.call("HMGET", KEYS[i], "tokens", "last")
		local tokens = tonumber(state[1]) or limit
		local last = tonumber(state[2]) or now
		if now > last then
			tokens = math.min(limit, tokens + (now - last) * limit / period)
			last = now
		end
		buckets[i] = {tokens, last}
		if tokens + epsilon < 1 then
			wait = math.ceil((1 - tokens) * period / limit)
		end
	else
		local used = tonumber(redis.call("GET", KEYS[i])) or 0
		if used >= limit then
			wait = math.max(1, ends - now)
		end
	end

	if wait > deniedWait then
		denied, deniedWait = i, wait
	end
end

if denied > 0 then
	return {denied, deniedWait}
end

for i = 1, #KEYS do
	local limit = tonumber(ARGV[3 * i - 1])
	local period = tonumber(ARGV[3 * i])
	local ends = tonumber(ARGV[3 * i + 1])

	if period > 0 then
		local tokens = buckets[i][1] - 1
		redis.call("HSET", KEYS[i], "tokens", string.format("%.17g", tokens), "last", string.format("%.17g", buckets[i][2]))
		redis.call("PEXPIRE", KEYS[i], math.max(1, math.ceil((limit - tokens) * period / limit)))
	else
		redis.call("INCR", KEYS[i])
		redis.call("PEXPIRE", KEYS[i], math.max(1, ends - now))
	end
end
return {0, 0}`)

// errInvalidCounter is returned, wrapped, for a counter that Charge cannot
// store. No call is sent for it.
var errInvalidCounter = errors.New("invalid counter")

// Charge takes one lookup at now from every counter, or from none, in one
// Lua script, so that every replica sharing the database counts against the
// same limits. The keys are the counters' keys under the "limit:" kind. It
// implements guard.SharedCounters.
//
// A token bucket here matches guard's in-memory one, except that times are
// in whole milliseconds and now comes from the caller, so a replica whose
// clock is behind adds no tokens until it passes the last refill. A count
// lives until its End as seen by the caller, and Redis removes its key then.
func (s *Store) Charge(ctx context.Context, now time.Time, counters []guard.Counter) (guard.ChargeResult, error) {
	if len(counters) == 0 {
		return guard.ChargeResult{Charged: true}, nil
	}

	nowMilli := now.UnixMilli()
	keys := make([]string, len(counters))
	args := make([]any, 0, 1+3*len(counters))
	args = append(args, nowMilli)
	for i, c := range counters {
		switch {
		case c.Key == "" || c.Limit <= 0:
			return guard.ChargeResult{}, fmt.Errorf("redisstore: charge %q with limit %d: %w: want a key and a limit above 0", c.Key, c.Limit, errInvalidCounter)
		case c.Per > 0 && c.Per < time.Millisecond:
			return guard.ChargeResult{}, fmt.Errorf("redisstore: charge %q with period %s: %w: want a period of at least 1ms", c.Key, c.Per, errInvalidCounter)
		case c.Per <= 0 && c.End.UnixMilli() <= nowMilli:
			return guard.ChargeResult{}, fmt.Errorf("redisstore: charge %q ending %s: %w: want a period, or an end after now", c.Key, c.End.Format(time.RFC3339), errInvalidCounter)
		}
		keys[i] = s.prefix + "limit:" + c.Key
		if c.Per > 0 {
			args = append(args, c.Limit, c.Per.Milliseconds(), 0)
		} else {
			args = append(args, c.Limit, 0, c.End.UnixMilli())
		}
	}

	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return guard.ChargeResult{}, err
	}
	defer cancel()

	reply, err := chargeScript.Run(ctx, s.client, keys, args...).Int64Slice()
	if err := s.end(ctx, err); err != nil {
		return guard.ChargeResult{}, err
	}
	if len(reply) != 2 || reply[0] < 0 || reply[0] > int64(len(counters)) {
		return guard.ChargeResult{}, fmt.Errorf("redisstore: charge script returned %v, want {index, milliseconds}", reply)
	}
	if reply[0] == 0 {
		return guard.ChargeResult{Charged: true}, nil
	}
	return guard.ChargeResult{
		Counter:    int(reply[0] - 1),
		RetryAfter: time.Duration(reply[1]) * time.Millisecond,
	}, nil
}
