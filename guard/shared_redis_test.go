package guard_test

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/guard"
	"github.com/ipqsbot/ipqsbot/internal/redisstore"
	"github.com/ipqsbot/ipqsbot/internal/testredis"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// okLooker returns an empty successful result for every lookup.
type okLooker struct{}

func (okLooker) Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
	return &ipqs.Result{Kind: req.Kind, Value: req.Value, IP: &ipqs.IPResult{Success: true}}, nil
}

// redisPrefix returns a key prefix of its own for one test, so that tests
// share the database without flushing it.
func redisPrefix(t *testing.T) string {
	var b [6]byte
	_, _ = cryptorand.Read(b[:])
	return "ipqsbot-test:" + t.Name() + ":" + hex.EncodeToString(b[:]) + ":"
}

// newRedisStore returns a store as one replica opens it.
func newRedisStore(t *testing.T, url, prefix string, log *slog.Logger) *redisstore.Store {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s, err := redisstore.New(redisstore.Config{URL: url, Prefix: prefix, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// lookup runs one lookup for user and returns the *LimitError, nil on
// success, and fails the test on any other error.
func lookup(t *testing.T, l guard.Looker, user string) *guard.LimitError {
	t.Helper()
	ctx := context.Background()
	if user != "" {
		ctx = guard.WithUser(ctx, user)
	}
	_, err := l.Lookup(ctx, ipqs.Request{Kind: ipqs.KindIP, Value: "203.0.113.7"})
	if err == nil {
		return nil
	}
	var limitErr *guard.LimitError
	if !errors.As(err, &limitErr) {
		t.Fatalf("lookup error = %v, want a *LimitError", err)
	}
	return limitErr
}

// clock is a clock that moves only when Advance is called.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestLimitersShareWorkspaceLimit(t *testing.T) {
	url, prefix := testredis.URL(t), redisPrefix(t)
	replicas := make([]guard.Looker, 2)
	for i := range replicas {
		store := newRedisStore(t, url, prefix, nil)
		replicas[i] = guard.NewLimiter(guard.LimitConfig{PerMinute: 5, Shared: store}).Wrap(okLooker{})
	}

	for i := range 5 {
		if e := lookup(t, replicas[i%2], ""); e != nil {
			t.Fatalf("lookup %d on replica %d limited: %v", i+1, i%2, e)
		}
	}
	for i, replica := range replicas {
		e := lookup(t, replica, "")
		if e == nil {
			t.Errorf("lookup 6 on replica %d succeeded, want the shared limit of 5", i)
			continue
		}
		if e.Scope != "minute" || e.Limit != "5 per minute" {
			t.Errorf("replica %d: error = %+v, want the limit of 5 per minute", i, e)
		}
		// One token refills every 12 s. The lookups above took some
		// milliseconds of real time.
		if e.RetryAfter <= 11*time.Second || e.RetryAfter > 12*time.Second {
			t.Errorf("replica %d: retry after = %s, want just under 12s", i, e.RetryAfter)
		}
	}
}

func TestLimitersShareUserLimit(t *testing.T) {
	url, prefix := testredis.URL(t), redisPrefix(t)
	replicas := make([]guard.Looker, 2)
	for i := range replicas {
		store := newRedisStore(t, url, prefix, nil)
		replicas[i] = guard.NewLimiter(guard.LimitConfig{PerUser: guard.Rate{N: 3, Per: time.Hour}, PerDay: 100, Shared: store}).Wrap(okLooker{})
	}

	for i := range 3 {
		if e := lookup(t, replicas[i%2], "U0ALICE"); e != nil {
			t.Fatalf("alice's lookup %d limited: %v", i+1, e)
		}
	}
	if e := lookup(t, replicas[1], "U0ALICE"); e == nil || e.Scope != "user" {
		t.Errorf("alice's fourth lookup error = %v, want the shared user limit", e)
	}
	if e := lookup(t, replicas[0], "U0BOB"); e != nil {
		t.Errorf("bob limited by alice's lookups: %v", e)
	}
}

// TestSharedMatchesMemory runs one random sequence of lookups through a
// Limiter in memory and one on Redis, and compares every result.
func TestSharedMatchesMemory(t *testing.T) {
	store := newRedisStore(t, testredis.URL(t), redisPrefix(t), nil)
	clk := &clock{t: time.Date(2025, 3, 1, 23, 50, 0, 0, time.UTC)}
	cfg := guard.LimitConfig{PerUser: guard.Rate{N: 7, Per: time.Minute}, PerMinute: 11, PerDay: 60, Now: clk.Now}
	memory := guard.NewLimiter(cfg).Wrap(okLooker{})
	cfg.Shared = store
	shared := guard.NewLimiter(cfg).Wrap(okLooker{})

	users := []string{"", "U0ALICE", "U0BOB", "U0CAROL"}
	random := rand.New(rand.NewPCG(1, 2))
	var charged, limited int
	for i := range 400 {
		// Whole milliseconds, because the shared counters keep time in them.
		clk.Advance(time.Duration(random.IntN(4000)) * time.Millisecond)
		user := users[random.IntN(len(users))]

		want := lookup(t, memory, user)
		got := lookup(t, shared, user)
		step := fmt.Sprintf("lookup %d by %q at %s", i+1, user, clk.Now().Format(time.TimeOnly))
		switch {
		case want == nil && got == nil:
			charged++
		case want == nil || got == nil:
			t.Fatalf("%s: shared error = %v, memory error = %v", step, got, want)
		default:
			limited++
			if got.Scope != want.Scope || got.Limit != want.Limit {
				t.Errorf("%s: shared error = %+v, memory error = %+v", step, got, want)
			}
			// The shared counters round the wait up to a whole
			// millisecond, memory up to a nanosecond, both from float64.
			if diff := (got.RetryAfter - want.RetryAfter).Abs(); diff > time.Millisecond {
				t.Errorf("%s: shared retry after %s, memory %s", step, got.RetryAfter, want.RetryAfter)
			}
		}
	}

	// The sequence must reach the limits and pass midnight UTC to compare
	// anything of interest.
	if charged < 50 || limited < 50 {
		t.Errorf("charged %d and limited %d of 400 lookups, want at least 50 of each", charged, limited)
	}
	if clk.Now().Day() != 2 {
		t.Errorf("sequence ended at %s, want it to pass midnight UTC", clk.Now())
	}
}

func TestLimiterFallsBackWhenRedisDown(t *testing.T) {
	var logged bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logged.Write(p)
	}), nil))
	store := newRedisStore(t, "redis://127.0.0.1:1/0", "", log)
	looker := guard.NewLimiter(guard.LimitConfig{PerMinute: 3, Shared: store}).Wrap(okLooker{})

	for i := range 3 {
		if e := lookup(t, looker, "U0ALICE"); e != nil {
			t.Fatalf("lookup %d with Redis down limited: %v", i+1, e)
		}
	}
	for range 20 {
		if e := lookup(t, looker, "U0ALICE"); e == nil || e.Scope != "minute" {
			t.Fatalf("lookup over the local limit error = %v, want the minute limit", e)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logged.String(), "\n"); n != 1 {
		t.Errorf("log records = %d, want 1, the store's outage warning:\n%s", n, logged.String())
	}
	if !strings.Contains(logged.String(), "redis unreachable") {
		t.Errorf("log lacks the outage warning:\n%s", logged.String())
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
