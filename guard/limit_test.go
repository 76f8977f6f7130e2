package guard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/cache"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// countingLooker returns for every lookup a successful IP result and
// counts the calls.
type countingLooker struct {
	calls atomic.Int64
}

func (l *countingLooker) Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
	l.calls.Add(1)
	return &ipqs.Result{
		Kind:      req.Kind,
		Value:     req.Value,
		IP:        &ipqs.IPResult{Success: true},
		FetchedAt: time.Now(),
	}, nil
}

func ipRequest(v string) ipqs.Request { return ipqs.Request{Kind: ipqs.KindIP, Value: v} }

// lookupAs runs one lookup for user and returns the *LimitError, nil on
// success, and fails the test on any other error.
func lookupAs(t *testing.T, l Looker, user, value string) *LimitError {
	t.Helper()
	ctx := context.Background()
	if user != "" {
		ctx = WithUser(ctx, user)
	}
	_, err := l.Lookup(ctx, ipRequest(value))
	if err == nil {
		return nil
	}
	var limitErr *LimitError
	if !errors.As(err, &limitErr) {
		t.Fatalf("lookup error = %v, want a *LimitError", err)
	}
	return limitErr
}

func TestLimiterUserConcurrent(t *testing.T) {
	clock := newFakeClock()
	next := &countingLooker{}
	looker := NewLimiter(LimitConfig{PerUser: Rate{N: 30, Per: time.Hour}, Now: clock.Now}).Wrap(next)
	ctx := WithUser(context.Background(), "U0ALICE")

	var ok, limited, other atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			_, err := looker.Lookup(ctx, ipRequest(fmt.Sprintf("203.0.113.%d", i)))
			var limitErr *LimitError
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &limitErr) && limitErr.Scope == "user":
				limited.Add(1)
			default:
				other.Add(1)
			}
		})
	}
	wg.Wait()

	if n := ok.Load(); n != 30 {
		t.Errorf("successes = %d, want 30", n)
	}
	if n := limited.Load(); n != 70 {
		t.Errorf("user limit errors = %d, want 70", n)
	}
	if n := other.Load(); n != 0 {
		t.Errorf("other errors = %d, want 0", n)
	}
	if n := next.calls.Load(); n != 30 {
		t.Errorf("IPQS calls = %d, want 30", n)
	}
}

func TestLimiterUsersIndependent(t *testing.T) {
	clock := newFakeClock()
	looker := NewLimiter(LimitConfig{PerUser: Rate{N: 2, Per: time.Minute}, Now: clock.Now}).Wrap(&countingLooker{})

	for range 2 {
		if e := lookupAs(t, looker, "U0ALICE", "203.0.113.1"); e != nil {
			t.Fatalf("alice limited early: %v", e)
		}
	}
	if e := lookupAs(t, looker, "U0ALICE", "203.0.113.1"); e == nil || e.Scope != "user" {
		t.Errorf("alice's third lookup error = %v, want user limit", e)
	}
	if e := lookupAs(t, looker, "U0BOB", "203.0.113.1"); e != nil {
		t.Errorf("bob limited by alice's lookups: %v", e)
	}
}

func TestLimiterAllOrNothing(t *testing.T) {
	clock := newFakeClock()
	next := &countingLooker{}
	looker := NewLimiter(LimitConfig{PerUser: Rate{N: 2, Per: Day}, PerMinute: 1, Now: clock.Now}).Wrap(next)

	if e := lookupAs(t, looker, "U0ALICE", "203.0.113.1"); e != nil {
		t.Fatalf("first lookup limited: %v", e)
	}
	for range 5 {
		if e := lookupAs(t, looker, "U0ALICE", "203.0.113.2"); e == nil || e.Scope != "minute" {
			t.Fatalf("lookup over the workspace limit error = %v, want minute limit", e)
		}
	}

	// Had the five rejected lookups kept alice's tokens, her bucket would be
	// empty now.
	clock.Advance(time.Minute)
	if e := lookupAs(t, looker, "U0ALICE", "203.0.113.3"); e != nil {
		t.Fatalf("lookup after the minute refilled limited: %v", e)
	}
	clock.Advance(time.Minute)
	if e := lookupAs(t, looker, "U0ALICE", "203.0.113.4"); e == nil || e.Scope != "user" {
		t.Errorf("third charged lookup error = %v, want user limit", e)
	}
	if n := next.calls.Load(); n != 2 {
		t.Errorf("IPQS calls = %d, want 2", n)
	}
}

func TestLimiterUserRejectionKeepsWorkspaceTokens(t *testing.T) {
	clock := newFakeClock()
	looker := NewLimiter(LimitConfig{PerUser: Rate{N: 1, Per: Day}, PerMinute: 2, Now: clock.Now}).Wrap(&countingLooker{})

	lookupAs(t, looker, "U0ALICE", "203.0.113.1")
	for range 5 {
		if e := lookupAs(t, looker, "U0ALICE", "203.0.113.2"); e == nil || e.Scope != "user" {
			t.Fatalf("alice's extra lookup error = %v, want user limit", e)
		}
	}
	if e := lookupAs(t, looker, "U0BOB", "203.0.113.3"); e != nil {
		t.Errorf("bob limited after alice's rejected lookups: %v", e)
	}
}

func TestLimiterWorkspaceLimits(t *testing.T) {
	tests := []struct {
		name  string
		cfg   LimitConfig
		ok    int
		scope string
		limit string
		retry time.Duration
	}{
		{"per minute", LimitConfig{PerMinute: 3}, 3, "minute", "3 per minute", 20 * time.Second},
		// The fake clock starts at noon UTC, so the day count restarts in 12 h.
		{"per day", LimitConfig{PerDay: 4}, 4, "day", "4 per day (UTC)", 12 * time.Hour},
		{"day under minute", LimitConfig{PerMinute: 10, PerDay: 2}, 2, "day", "2 per day (UTC)", 12 * time.Hour},
		{"user limit without user", LimitConfig{PerUser: Rate{N: 1, Per: time.Hour}, PerMinute: 2}, 2, "minute", "2 per minute", 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			tt.cfg.Now = clock.Now
			looker := NewLimiter(tt.cfg).Wrap(&countingLooker{})

			for i := range tt.ok {
				if e := lookupAs(t, looker, "", "203.0.113.1"); e != nil {
					t.Fatalf("lookup %d limited: %v", i+1, e)
				}
			}
			e := lookupAs(t, looker, "", "203.0.113.1")
			if e == nil {
				t.Fatal("lookup over the limit succeeded")
			}
			if e.Scope != tt.scope {
				t.Errorf("scope = %q, want %q", e.Scope, tt.scope)
			}
			if e.Limit != tt.limit {
				t.Errorf("limit = %q, want %q", e.Limit, tt.limit)
			}
			if e.RetryAfter != tt.retry {
				t.Errorf("retry after = %s, want %s", e.RetryAfter, tt.retry)
			}

			clock.Advance(tt.retry - time.Second)
			if e := lookupAs(t, looker, "", "203.0.113.1"); e == nil {
				t.Error("lookup before the retry time succeeded")
			}
			clock.Advance(time.Second)
			if e := lookupAs(t, looker, "", "203.0.113.1"); e != nil {
				t.Errorf("lookup at the retry time limited: %v", e)
			}
		})
	}
}

func TestLimiterRetryAfterLongestWait(t *testing.T) {
	clock := newFakeClock()
	looker := NewLimiter(LimitConfig{PerUser: Rate{N: 1, Per: time.Minute}, PerDay: 1, Now: clock.Now}).Wrap(&countingLooker{})

	lookupAs(t, looker, "U0ALICE", "203.0.113.1")
	e := lookupAs(t, looker, "U0ALICE", "203.0.113.2")
	if e == nil || e.Scope != "day" || e.RetryAfter != 12*time.Hour {
		t.Errorf("error = %+v, want the day limit with retry at midnight UTC, 12 h away", e)
	}
}

func TestLimiterUnlimited(t *testing.T) {
	next := &countingLooker{}
	looker := NewLimiter(LimitConfig{}).Wrap(next)
	for range 1000 {
		if e := lookupAs(t, looker, "U0ALICE", "203.0.113.1"); e != nil {
			t.Fatalf("unlimited limiter rejected a lookup: %v", e)
		}
	}
	if n := next.calls.Load(); n != 1000 {
		t.Errorf("IPQS calls = %d, want 1000", n)
	}
}

func TestLimiterCacheHitsNotCharged(t *testing.T) {
	clock := newFakeClock()
	next := &countingLooker{}
	limited := NewLimiter(LimitConfig{PerUser: Rate{N: 2, Per: Day}, Now: clock.Now}).Wrap(next)
	c := cache.New(limited, cache.Config{TTL: map[ipqs.Kind]time.Duration{ipqs.KindIP: time.Hour}})
	ctx := WithUser(context.Background(), "U0ALICE")

	for range 10 {
		if _, err := c.Lookup(ctx, ipRequest("185.220.101.4")); err != nil {
			t.Fatalf("repeated lookup: %v", err)
		}
	}
	if n := next.calls.Load(); n != 1 {
		t.Fatalf("IPQS calls for one value = %d, want 1", n)
	}

	if _, err := c.Lookup(ctx, ipRequest("185.220.101.5")); err != nil {
		t.Fatalf("second value limited, so cache hits were charged: %v", err)
	}
	_, err := c.Lookup(ctx, ipRequest("185.220.101.6"))
	var limitErr *LimitError
	if !errors.As(err, &limitErr) || limitErr.Scope != "user" {
		t.Errorf("third value error = %v, want the user limit", err)
	}
}

func TestLimiterUserBucketsBounded(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(LimitConfig{PerUser: Rate{N: 5, Per: time.Minute}, Now: clock.Now})
	looker := l.Wrap(&countingLooker{})

	for i := range 1000 {
		lookupAs(t, looker, fmt.Sprintf("U%04d", i), "203.0.113.1")
	}
	if n := len(l.users); n != 1000 {
		t.Fatalf("buckets of users active now = %d, want 1000", n)
	}

	clock.Advance(time.Minute)
	lookupAs(t, looker, "U0ALICE", "203.0.113.1")
	if n := len(l.users); n != 1 {
		t.Errorf("buckets after the others refilled = %d, want 1", n)
	}
	if n := l.lru.Len(); n != len(l.users) {
		t.Errorf("LRU length %d differs from map length %d", n, len(l.users))
	}
}

func TestLimiterUserBucketsCapped(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(LimitConfig{PerUser: Rate{N: 5, Per: time.Hour}, Now: clock.Now})
	l.maxUsers = 50
	looker := l.Wrap(&countingLooker{})

	for i := range 200 {
		lookupAs(t, looker, fmt.Sprintf("U%04d", i), "203.0.113.1")
	}
	if n := len(l.users); n != 50 {
		t.Errorf("buckets = %d, want the bound 50", n)
	}
	if _, ok := l.users["U0199"]; !ok {
		t.Error("most recent user evicted")
	}
	if _, ok := l.users["U0000"]; ok {
		t.Error("least recent user kept")
	}
}

func TestLimiterRefillsEvenly(t *testing.T) {
	clock := newFakeClock()
	looker := NewLimiter(LimitConfig{PerUser: Rate{N: 30, Per: time.Minute}, Now: clock.Now}).Wrap(&countingLooker{})

	for range 30 {
		lookupAs(t, looker, "U0ALICE", "203.0.113.1")
	}
	e := lookupAs(t, looker, "U0ALICE", "203.0.113.1")
	if e == nil || e.RetryAfter != 2*time.Second || e.Limit != "30 per minute" {
		t.Fatalf("error = %+v, want 30 per minute with retry after 2s", e)
	}
	clock.Advance(2 * time.Second)
	if e := lookupAs(t, looker, "U0ALICE", "203.0.113.1"); e != nil {
		t.Errorf("lookup after one token refilled limited: %v", e)
	}
	if e := lookupAs(t, looker, "U0ALICE", "203.0.113.1"); e == nil {
		t.Error("second lookup after one token refilled succeeded")
	}
}

func TestLimiterClockBackwards(t *testing.T) {
	clock := newFakeClock()
	looker := NewLimiter(LimitConfig{PerMinute: 1, Now: clock.Now}).Wrap(&countingLooker{})

	lookupAs(t, looker, "", "203.0.113.1")
	clock.Advance(-time.Hour)
	if e := lookupAs(t, looker, "", "203.0.113.1"); e == nil {
		t.Error("lookup after the clock went back succeeded")
	}
	clock.Advance(time.Hour)
	if e := lookupAs(t, looker, "", "203.0.113.1"); e == nil {
		t.Error("lookup when the clock returned succeeded")
	}
}

func TestLimitErrorMessage(t *testing.T) {
	err := &LimitError{Scope: "user", Limit: "30 per minute", RetryAfter: 1500 * time.Millisecond}
	msg := err.Error()
	for _, want := range []string{"user", "30 per minute", "retry in 2s"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestUserFromContext(t *testing.T) {
	if got := UserFromContext(context.Background()); got != "" {
		t.Errorf("user of a bare context = %q, want empty", got)
	}
	ctx := WithUser(context.Background(), "U0ALICE")
	if got := UserFromContext(context.WithoutCancel(ctx)); got != "U0ALICE" {
		t.Errorf("user after WithoutCancel = %q, want U0ALICE", got)
	}
}

func TestLimitErrorUserMessage(t *testing.T) {
	tests := []struct {
		err  LimitError
		want []string
	}{
		{LimitError{Scope: "user", Limit: "30 per minute", RetryAfter: 1500 * time.Millisecond}, []string{"You have reached the limit of IPQualityScore lookups, 30 per minute", "USER_LOOKUP_LIMIT", "Try again in 2 s"}},
		{LimitError{Scope: "minute", Limit: "300 per minute", RetryAfter: 90 * time.Second}, []string{"The workspace has", "LOOKUP_LIMIT_PER_MINUTE", "2 min"}},
		{LimitError{Scope: "day", Limit: "1000 per day", RetryAfter: 150 * time.Minute}, []string{"LOOKUP_LIMIT_PER_DAY", "3 h"}},
	}
	for _, tt := range tests {
		got := tt.err.UserMessage()
		for _, want := range tt.want {
			if !strings.Contains(got, want) {
				t.Errorf("UserMessage() = %q, want it to contain %q", got, want)
			}
		}
	}
}

func TestLimiterDayRestartsAtMidnightUTC(t *testing.T) {
	clock := newFakeClock()
	looker := NewLimiter(LimitConfig{PerDay: 2, Now: clock.Now}).Wrap(&countingLooker{})

	for range 2 {
		if e := lookupAs(t, looker, "", "203.0.113.1"); e != nil {
			t.Fatalf("lookup limited: %v", e)
		}
	}
	clock.Advance(11*time.Hour + 59*time.Minute)
	if e := lookupAs(t, looker, "", "203.0.113.1"); e == nil {
		t.Error("third lookup of the day succeeded")
	}
	clock.Advance(time.Minute)
	for i := range 2 {
		if e := lookupAs(t, looker, "", "203.0.113.1"); e != nil {
			t.Errorf("lookup %d of the new day limited: %v", i+1, e)
		}
	}
	if e := lookupAs(t, looker, "", "203.0.113.1"); e == nil {
		t.Error("third lookup of the new day succeeded")
	}
}

func TestLimitErrorShortMessage(t *testing.T) {
	tests := []struct {
		scope string
		wait  time.Duration
		want  string
	}{
		{"user", 1500 * time.Millisecond, "USER_LOOKUP_LIMIT reached, retry in 2 s"},
		{"minute", 30 * time.Second, "LOOKUP_LIMIT_PER_MINUTE reached, retry in 30 s"},
		{"day", 90 * time.Minute, "LOOKUP_LIMIT_PER_DAY reached, retry in 2 h"},
	}
	for _, tt := range tests {
		e := &LimitError{Scope: tt.scope, Limit: "5 per minute", RetryAfter: tt.wait}
		if got := e.ShortMessage(); got != tt.want {
			t.Errorf("scope %s: ShortMessage() = %q, want %q", tt.scope, got, tt.want)
		}
	}
}
