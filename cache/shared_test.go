package cache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/ipqsfake"
	"github.com/ipqsbot/ipqsbot/internal/redisstore"
	"github.com/ipqsbot/ipqsbot/internal/secret"
	"github.com/ipqsbot/ipqsbot/internal/testredis"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// newRedis returns a store with a key prefix of its own for one test, so
// that tests share the database without flushing it. Stores made with the
// same prefix act as replicas.
func newRedis(t *testing.T, url, prefix string, log *slog.Logger) *redisstore.Store {
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

func testPrefix(t *testing.T) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "ipqsbot-test:" + t.Name() + ":" + hex.EncodeToString(b[:]) + ":"
}

// slowLooker is a countingLooker that takes a while, so that concurrent
// lookups overlap.
type slowLooker struct {
	countingLooker
	delay time.Duration
}

func (l *slowLooker) Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
	time.Sleep(l.delay)
	return l.countingLooker.Lookup(ctx, req)
}

func TestSharedReplicasCallOncePerIndicator(t *testing.T) {
	url, prefix := testredis.URL(t), testPrefix(t)
	next := &slowLooker{delay: 30 * time.Millisecond}
	replicas := []*Cache{
		New(next, Config{TTL: ttls, Shared: newRedis(t, url, prefix, nil)}),
		New(next, Config{TTL: ttls, Shared: newRedis(t, url, prefix, nil)}),
	}

	const callers, indicators = 50, 10
	var wg sync.WaitGroup
	results := make([]*ipqs.Result, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			req := ipRequest(fmt.Sprintf("185.220.101.%d", i%indicators))
			// Callers 0-9 use replica 0, 10-19 replica 1, and so on, so
			// that both replicas look up every indicator.
			results[i], errs[i] = replicas[(i/indicators)%2].Lookup(context.Background(), req)
		})
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
		if want := fmt.Sprintf("185.220.101.%d", i%indicators); results[i].Value != want {
			t.Errorf("lookup %d: value = %q, want %q", i, results[i].Value, want)
		}
	}
	if n := next.calls.Load(); n != indicators {
		t.Errorf("IPQS calls = %d, want %d (one per indicator across both replicas)", n, indicators)
	}

	// Every replica now answers from memory or Redis, without calling.
	for i := range indicators {
		for r, c := range replicas {
			res, err := c.Lookup(context.Background(), ipRequest(fmt.Sprintf("185.220.101.%d", i)))
			if err != nil {
				t.Fatal(err)
			}
			if !res.Cached {
				t.Errorf("replica %d, indicator %d: repeated lookup not cached", r, i)
			}
		}
	}
	if n := next.calls.Load(); n != indicators {
		t.Errorf("IPQS calls after repeats = %d, want %d", n, indicators)
	}
}

func TestSharedResultSurvivesRoundTrip(t *testing.T) {
	url, prefix := testredis.URL(t), testPrefix(t)
	fake := ipqsfake.New("test-key")
	t.Cleanup(fake.Close)
	client := ipqs.New(ipqs.Config{BaseURL: fake.URL(), Key: secret.New("test-key")})

	a := New(client, Config{TTL: ttls, Shared: newRedis(t, url, prefix, nil)})
	b := New(client, Config{TTL: ttls, Shared: newRedis(t, url, prefix, nil)})
	ctx := context.Background()

	for _, req := range []ipqs.Request{
		{Kind: ipqs.KindIP, Value: "185.220.101.4"},
		{Kind: ipqs.KindURL, Value: "https://phish.example.com/login"},
		{Kind: ipqs.KindEmail, Value: "throwaway@example.net"},
	} {
		t.Run(string(req.Kind), func(t *testing.T) {
			fetched, err := a.Lookup(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			shared, err := b.Lookup(ctx, req)
			if err != nil {
				t.Fatal(err)
			}

			if n := fake.Calls(string(req.Kind), req.Value); n != 1 {
				t.Errorf("IPQS calls = %d, want 1", n)
			}
			if !shared.Cached {
				t.Error("result from the other replica not marked cached")
			}
			if !shared.FetchedAt.Equal(fetched.FetchedAt) {
				t.Errorf("FetchedAt = %v, want %v", shared.FetchedAt, fetched.FetchedAt)
			}
			if !bytes.Equal(shared.Raw, fetched.Raw) {
				t.Errorf("Raw = %s, want the IPQS body %s", shared.Raw, fetched.Raw)
			}
			if shared.Kind != fetched.Kind || shared.Value != fetched.Value {
				t.Errorf("kind, value = %s, %q; want %s, %q", shared.Kind, shared.Value, fetched.Kind, fetched.Value)
			}
			if !reflect.DeepEqual(shared.IP, fetched.IP) {
				t.Errorf("IP = %+v, want %+v", shared.IP, fetched.IP)
			}
			if !reflect.DeepEqual(shared.URL, fetched.URL) {
				t.Errorf("URL = %+v, want %+v", shared.URL, fetched.URL)
			}
			if !reflect.DeepEqual(shared.Email, fetched.Email) {
				t.Errorf("Email = %+v, want %+v", shared.Email, fetched.Email)
			}
			if !complete(shared) {
				t.Error("result from the other replica is not a complete answer")
			}
		})
	}
}

func TestSharedHolderFailureHandsOver(t *testing.T) {
	url, prefix := testredis.URL(t), testPrefix(t)
	failing := &slowLooker{delay: 50 * time.Millisecond}
	failing.err = &ipqs.Error{Kind: ipqs.ErrServer, Op: "ip", Status: 503}
	working := &slowLooker{}
	a := New(failing, Config{TTL: ttls, Shared: newRedis(t, url, prefix, nil)})
	b := New(working, Config{TTL: ttls, Shared: newRedis(t, url, prefix, nil)})

	var errA error
	var wg sync.WaitGroup
	wg.Go(func() { _, errA = a.Lookup(context.Background(), ipRequest("45.83.64.1")) })
	time.Sleep(10 * time.Millisecond)
	start := time.Now()
	res, err := b.Lookup(context.Background(), ipRequest("45.83.64.1"))
	wg.Wait()

	if ipqs.KindOf(errA) != ipqs.ErrServer {
		t.Errorf("holder's error = %v, want the server error", errA)
	}
	if err != nil {
		t.Fatalf("waiting replica: %v", err)
	}
	if res.Cached || working.calls.Load() != 1 {
		t.Errorf("waiting replica: cached = %v, calls = %d; want its own call after the holder failed", res.Cached, working.calls.Load())
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("waiting replica took %v, want it to take over once the lock is released", waited)
	}
}

func TestSharedUnreachableStillLooksUp(t *testing.T) {
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&lockedBuffer{b: &logged}, nil))
	store := newRedis(t, "redis://127.0.0.1:1/0", "ipqsbot:", log)
	next := &countingLooker{}
	c := New(next, Config{TTL: ttls, Shared: store})

	const lookups = 40
	var wg sync.WaitGroup
	errs := make([]error, lookups)
	for i := range lookups {
		wg.Go(func() {
			_, errs[i] = c.Lookup(context.Background(), ipRequest(fmt.Sprintf("45.83.64.%d", i)))
		})
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("lookup %d: %v", i, err)
		}
	}
	if n := next.calls.Load(); n != lookups {
		t.Errorf("IPQS calls = %d, want %d", n, lookups)
	}
	if n := strings.Count(logged.String(), "redis unreachable"); n != 1 {
		t.Errorf("unreachable records = %d, want 1:\n%s", n, logged.String())
	}

	// The memory tier still serves repeats.
	res, err := c.Lookup(context.Background(), ipRequest("45.83.64.1"))
	if err != nil || !res.Cached {
		t.Errorf("repeat lookup: cached = %v, err = %v; want a memory hit", res != nil && res.Cached, err)
	}
}

func TestSharedKeyFixedLength(t *testing.T) {
	short := SharedKey(ipRequest("1.1.1.1"))
	long := SharedKey(ipqs.Request{Kind: ipqs.KindURL, Value: "https://example.com/" + strings.Repeat("a", 4000)})
	if !strings.HasPrefix(short, "v1:ip:") || !strings.HasPrefix(long, "v1:url:") {
		t.Errorf("keys %q, %q; want the version and kind first", short, long)
	}
	if len(short) != len(long)-1 {
		t.Errorf("key lengths %d and %d; want them equal but for the kind", len(short), len(long))
	}
}

// lockedBuffer serialises writes from concurrent log calls.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
