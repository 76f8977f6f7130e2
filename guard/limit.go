package guard

import (
	"container/list"
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

// DefaultUserLimit is the default USER_LOOKUP_LIMIT. NewLimiter does not
// apply it: the zero LimitConfig.PerUser means unlimited.
var DefaultUserLimit = Rate{N: 30, Per: time.Minute}

// DefaultPerMinute is the default LOOKUP_LIMIT_PER_MINUTE. NewLimiter does
// not apply it: LimitConfig.PerMinute 0 means unlimited.
const DefaultPerMinute = 300

// DefaultMaxUsers bounds how many per-user buckets a Limiter keeps.
const DefaultMaxUsers = 10_000

// LimitConfig configures a Limiter. The per-user and per-minute limits are
// token buckets that hold at most their count of lookups and refill evenly
// over their period: a user with 30/m may spend 30 lookups at once and then
// one every 2 seconds. The per-day limit is a count per UTC day.
type LimitConfig struct {
	// PerUser limits each user's lookups (USER_LOOKUP_LIMIT). The zero Rate
	// means unlimited.
	PerUser Rate
	// PerMinute limits lookups across the workspace per minute
	// (LOOKUP_LIMIT_PER_MINUTE). 0 means unlimited.
	PerMinute int
	// PerDay limits lookups across the workspace per calendar day in UTC
	// (LOOKUP_LIMIT_PER_DAY). 0 means unlimited. The count restarts at
	// midnight UTC. Without Shared, it also restarts when the process
	// starts.
	PerDay int
	// Shared, when not nil, stores the counters of every limit, so that all
	// processes sharing it enforce the limits together. A call for which
	// Shared returns an error is charged to this process's own buckets
	// instead, as if Shared were nil. nil keeps the limits in process memory.
	Shared SharedCounters
	// Now returns the current time. nil means time.Now.
	Now func() time.Time
}

// LimitError is returned when a limit is reached. No IPQS call is made.
type LimitError struct {
	// Scope is the limit reached: "user", "minute" or "day". When several
	// are reached at once, it is the one that frees up last.
	Scope string
	// Limit is the limit in words, such as "30 per minute".
	Limit string
	// RetryAfter is how long until a retry can succeed, given no other
	// lookups in between.
	RetryAfter time.Duration
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("guard: %s lookup limit of %s reached; retry in %s",
		e.Scope, e.Limit, e.RetryAfter.Round(time.Second))
}

// UserMessage returns the sentence shown to the user in Slack: which limit
// was reached and when to retry.
func (e *LimitError) UserMessage() string {
	who := "The workspace has"
	if e.Scope == "user" {
		who = "You have"
	}
	return fmt.Sprintf("%s reached the limit of IPQualityScore lookups, %s (%s). Try again in %s; results already in the cache are still shown.",
		who, e.Limit, limitSetting(e.Scope), retryWords(e.RetryAfter))
}

// ShortMessage returns a few words for a one-line summary in Slack: the
// setting whose limit was reached and when to retry.
func (e *LimitError) ShortMessage() string {
	return fmt.Sprintf("%s reached, retry in %s", limitSetting(e.Scope), retryWords(e.RetryAfter))
}

// limitSetting returns the variable that sets the limit of scope.
func limitSetting(scope string) string {
	switch scope {
	case "user":
		return "USER_LOOKUP_LIMIT"
	case "day":
		return "LOOKUP_LIMIT_PER_DAY"
	}
	return "LOOKUP_LIMIT_PER_MINUTE"
}

// retryWords returns d rounded up for people: "5 s", "3 min", "2 h".
func retryWords(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", max(1, int((d+time.Second-1)/time.Second)))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int((d+time.Minute-1)/time.Minute))
	}
	return fmt.Sprintf("%d h", int((d+time.Hour-1)/time.Hour))
}

// Limiter charges lookups against a per-user limit and workspace limits per
// minute and per day. It is safe for concurrent use.
//
// With LimitConfig.Shared, the shared counters decide. Each lookup they allow
// is also taken from the local buckets unless one of them is empty, so that
// a later call that falls back to them finds this process's recent use.
type Limiter struct {
	now       func() time.Time
	perUser   Rate
	perMinute int
	perDay    int
	shared    SharedCounters
	maxUsers  int

	// mu guards every bucket, so a lookup takes a token from all of its
	// buckets or from none.
	mu     sync.Mutex
	minute *bucket
	day    *dayCount
	// users maps a user ID to its element in lru, whose values are
	// *userBucket, most recently used first.
	users map[string]*list.Element
	lru   *list.List
}

type userBucket struct {
	id string
	bucket
}

// NewLimiter returns a Limiter for cfg.
func NewLimiter(cfg LimitConfig) *Limiter {
	l := &Limiter{
		now:       cfg.Now,
		perUser:   cfg.PerUser,
		perMinute: max(cfg.PerMinute, 0),
		perDay:    max(cfg.PerDay, 0),
		shared:    cfg.Shared,
		maxUsers:  DefaultMaxUsers,
		users:     make(map[string]*list.Element),
		lru:       list.New(),
	}
	if l.now == nil {
		l.now = time.Now
	}
	start := l.now()
	if cfg.PerMinute > 0 {
		l.minute = newBucket(Rate{N: cfg.PerMinute, Per: time.Minute}, start)
	}
	if cfg.PerDay > 0 {
		l.day = &dayCount{limit: cfg.PerDay, start: utcDay(start)}
	}
	return l
}

// Wrap returns a Looker that charges every call against the limits before
// calling next, and returns a *LimitError without calling next when a limit
// is reached. It belongs between the cache and the IPQS client, so that
// cache hits are never charged. Calls that fail in next are charged too.
func (l *Limiter) Wrap(next Looker) Looker {
	return &limitedLooker{limiter: l, next: next}
}

type limitedLooker struct {
	limiter *Limiter
	next    Looker
}

func (ll *limitedLooker) Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
	if err := ll.limiter.take(ctx, UserFromContext(ctx)); err != nil {
		return nil, err
	}
	return ll.next.Lookup(ctx, req)
}

type userKey struct{}

// WithUser returns ctx carrying the user whose per-user limit a lookup
// counts against. The value survives context.WithoutCancel, so a cache's
// shared call charges the user who started it. Lookups without a user count
// only against the workspace limits.
func WithUser(ctx context.Context, userID string) context.Context {
	return context.WithValue(ctx, userKey{}, userID)
}

// UserFromContext returns the user set by WithUser, or "".
func UserFromContext(ctx context.Context) string {
	id, _ := ctx.Value(userKey{}).(string)
	return id
}

// take charges one lookup to user and the workspace, or returns a
// *LimitError and charges nothing.
func (l *Limiter) take(ctx context.Context, user string) error {
	now := l.now()
	if l.shared == nil {
		return l.takeLocal(user, now)
	}

	// A failing store logs its outage once, so the fallback here is quiet.
	denied, ok := l.takeShared(ctx, user, now)
	if !ok {
		return l.takeLocal(user, now)
	}
	if denied != nil {
		return denied
	}

	// The shared counters decide, so a rejection by the local buckets, which
	// only track this process's use for a fallback, is ignored.
	_ = l.takeLocal(user, now)
	return nil
}

// takeLocal charges one lookup to the buckets in process memory, or returns
// a *LimitError and charges nothing.
func (l *Limiter) takeLocal(user string, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()

	type scoped struct {
		scope string
		b     *bucket
	}
	checks := make([]scoped, 0, 3)
	if user != "" && !l.perUser.Unlimited() {
		checks = append(checks, scoped{scopeUser, l.userBucket(user, now)})
	}
	if l.minute != nil {
		checks = append(checks, scoped{scopeMinute, l.minute})
	}

	var denied *LimitError
	for _, c := range checks {
		c.b.refill(now)
		wait := c.b.wait()
		if wait > 0 && (denied == nil || wait > denied.RetryAfter) {
			denied = &LimitError{Scope: c.scope, Limit: l.limitWords(c.scope), RetryAfter: wait}
		}
	}
	if l.day != nil {
		l.day.roll(now)
		if wait := l.day.wait(now); wait > 0 && (denied == nil || wait > denied.RetryAfter) {
			denied = &LimitError{Scope: scopeDay, Limit: l.limitWords(scopeDay), RetryAfter: wait}
		}
	}
	if denied != nil {
		return denied
	}

	for _, c := range checks {
		c.b.tokens--
	}
	if l.day != nil {
		l.day.used++
	}
	return nil
}

// dayCount counts lookups per calendar day in UTC. The count starts at 0
// at midnight UTC and when the process starts.
type dayCount struct {
	limit int
	used  int
	// start is midnight UTC of the day counted.
	start time.Time
}

// roll starts a new count when now is on a later day than the count.
func (d *dayCount) roll(now time.Time) {
	if today := utcDay(now); today.After(d.start) {
		d.start, d.used = today, 0
	}
}

// wait returns how long until the next lookup is allowed, 0 when it is.
func (d *dayCount) wait(now time.Time) time.Duration {
	if d.used < d.limit {
		return 0
	}
	return d.start.Add(Day).Sub(now)
}

// utcDay returns midnight UTC of the day of t. UTC days are all 24 hours
// long, so truncating from Go's zero time, itself a UTC midnight, is exact.
func utcDay(t time.Time) time.Time {
	return t.UTC().Truncate(Day)
}

// userBucket returns the bucket of user, creating it full when missing.
// It first drops the least recently used buckets while they are full again,
// which loses nothing because a new bucket starts full. Beyond maxUsers it
// evicts the least recently used bucket.
func (l *Limiter) userBucket(user string, now time.Time) *bucket {
	for e := l.lru.Back(); e != nil; {
		ub := e.Value.(*userBucket)
		ub.refill(now)
		if ub.tokens < ub.capacity() {
			break
		}
		prev := e.Prev()
		l.lru.Remove(e)
		delete(l.users, ub.id)
		e = prev
	}

	if e, ok := l.users[user]; ok {
		l.lru.MoveToFront(e)
		return &e.Value.(*userBucket).bucket
	}

	ub := &userBucket{id: user, bucket: *newBucket(l.perUser, now)}
	l.users[user] = l.lru.PushFront(ub)
	// NOTE: an evicted user who has not refilled starts again with a full
	// bucket. This happens only with more than maxUsers recent users.
	for l.lru.Len() > l.maxUsers {
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.users, oldest.Value.(*userBucket).id)
	}
	return &ub.bucket
}

// bucket is a token bucket that holds up to rate.N tokens and refills at
// rate.N per rate.Per. It is not safe for concurrent use on its own.
type bucket struct {
	rate   Rate
	tokens float64
	last   time.Time
}

func newBucket(r Rate, now time.Time) *bucket {
	return &bucket{rate: r, tokens: float64(r.N), last: now}
}

func (b *bucket) capacity() float64 { return float64(b.rate.N) }

// refill adds the tokens earned since the last refill. A clock that went
// backwards adds none until it passes the last refill again.
func (b *bucket) refill(now time.Time) {
	elapsed := now.Sub(b.last)
	if elapsed <= 0 {
		return
	}
	b.tokens = min(b.capacity(), b.tokens+float64(elapsed)*b.capacity()/float64(b.rate.Per))
	b.last = now
}

// tokenEpsilon absorbs the rounding of refills summed in float64, so that a
// bucket refilled in several steps holds a whole token exactly when one
// step would give it.
const tokenEpsilon = 1e-9

// wait returns how long until the bucket holds one token, 0 when it does.
func (b *bucket) wait() time.Duration {
	if b.tokens+tokenEpsilon >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - b.tokens) * float64(b.rate.Per) / b.capacity()))
}
