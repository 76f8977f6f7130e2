package guard

import (
	"context"
	"fmt"
	"time"
)

// SharedCounters charges lookups against counters that several processes
// share, so that replicas of the bot enforce one set of limits together.
// *redisstore.Store implements it.
type SharedCounters interface {
	// Charge takes one lookup at now from every counter, or from none when
	// any of them has none left. now comes from the caller's clock, so the
	// processes sharing the counters need clocks that agree.
	Charge(ctx context.Context, now time.Time, counters []Counter) (ChargeResult, error)
}

// Counter is one limit in a call to SharedCounters.Charge: a token bucket
// when Per is above 0, or else a count that ends at End.
type Counter struct {
	// Key names the counter among all those in the store, such as
	// "user:U0ALICE", "minute" or "day:2025-03-01".
	Key string
	// Limit is the capacity of the bucket, or the lookups allowed in the
	// count. It is above 0.
	Limit int
	// Per is how long an empty bucket takes to refill evenly to Limit
	// tokens.
	Per time.Duration
	// End is when the count stops applying, after now. Because a count
	// restarts only under a new key, Key names the period it counts.
	End time.Time
}

// ChargeResult is the outcome of SharedCounters.Charge.
type ChargeResult struct {
	// Charged reports whether the lookup was taken from every counter.
	Charged bool
	// Counter is the index, in the counters passed to Charge, of the
	// counter that allows a lookup last. It is set only when Charged is
	// false. On a tie it is the first of them.
	Counter int
	// RetryAfter is how long until that counter allows one lookup, given no
	// other lookups in between.
	RetryAfter time.Duration
}

// Scopes of LimitError, in the order take checks them.
const (
	scopeUser   = "user"
	scopeMinute = "minute"
	scopeDay    = "day"
)

// takeShared charges one lookup to user and the workspace in l.shared. It
// returns ok false, having charged nothing, when the store fails or returns
// an index out of range, so the caller can fall back to the local buckets.
func (l *Limiter) takeShared(ctx context.Context, user string, now time.Time) (denied *LimitError, ok bool) {
	counters := make([]Counter, 0, 3)
	scopes := make([]string, 0, 3)
	if user != "" && !l.perUser.Unlimited() {
		counters = append(counters, Counter{Key: "user:" + user, Limit: l.perUser.N, Per: l.perUser.Per})
		scopes = append(scopes, scopeUser)
	}
	if l.perMinute > 0 {
		counters = append(counters, Counter{Key: "minute", Limit: l.perMinute, Per: time.Minute})
		scopes = append(scopes, scopeMinute)
	}
	if l.perDay > 0 {
		day := utcDay(now)
		counters = append(counters, Counter{Key: "day:" + day.Format(time.DateOnly), Limit: l.perDay, End: day.Add(Day)})
		scopes = append(scopes, scopeDay)
	}
	if len(counters) == 0 {
		return nil, true
	}

	res, err := l.shared.Charge(ctx, now, counters)
	if err != nil {
		return nil, false
	}
	if res.Charged {
		return nil, true
	}
	if res.Counter < 0 || res.Counter >= len(counters) {
		return nil, false
	}
	scope := scopes[res.Counter]
	return &LimitError{Scope: scope, Limit: l.limitWords(scope), RetryAfter: res.RetryAfter}, true
}

// limitWords returns the limit of scope in words, as LimitError.Limit
// shows it.
func (l *Limiter) limitWords(scope string) string {
	switch scope {
	case scopeUser:
		return l.perUser.String()
	case scopeDay:
		return fmt.Sprintf("%d per day (UTC)", l.perDay)
	}
	return Rate{N: l.perMinute, Per: time.Minute}.String()
}
