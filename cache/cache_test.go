package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

// countingLooker answers every lookup with a fresh successful result, after
// release is closed when it is set, and counts the calls.
type countingLooker struct {
	calls   atomic.Int64
	release chan struct{}
	err     error
}

func (l *countingLooker) Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
	l.calls.Add(1)
	if l.release != nil {
		<-l.release
	}
	if l.err != nil {
		return nil, l.err
	}
	res := &ipqs.Result{Kind: req.Kind, Value: req.Value, FetchedAt: time.Now()}
	switch req.Kind {
	case ipqs.KindIP:
		res.IP = &ipqs.IPResult{Success: true, RequestID: fmt.Sprint("req-", l.calls.Load())}
	case ipqs.KindURL:
		res.URL = &ipqs.URLResult{Success: true}
	case ipqs.KindEmail:
		res.Email = &ipqs.EmailResult{Success: true}
	}
	return res, nil
}

var ttls = map[ipqs.Kind]time.Duration{ipqs.KindIP: time.Hour, ipqs.KindURL: time.Hour, ipqs.KindEmail: time.Hour}

func ipRequest(v string) ipqs.Request { return ipqs.Request{Kind: ipqs.KindIP, Value: v} }

func TestCacheHit(t *testing.T) {
	next := &countingLooker{}
	c := New(next, Config{TTL: ttls})
	ctx := context.Background()

	first, err := c.Lookup(ctx, ipRequest("185.220.101.4"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Lookup(ctx, ipRequest("185.220.101.4"))
	if err != nil {
		t.Fatal(err)
	}

	if n := next.calls.Load(); n != 1 {
		t.Errorf("IPQS calls = %d, want 1", n)
	}
	if first.Cached {
		t.Error("first result marked cached")
	}
	if !second.Cached {
		t.Error("second result not marked cached")
	}
	if !second.FetchedAt.Equal(first.FetchedAt) || second.RequestID() != first.RequestID() {
		t.Error("cached result differs from the stored one")
	}
}

func TestCacheKeyIncludesParams(t *testing.T) {
	next := &countingLooker{}
	c := New(next, Config{TTL: ttls})
	ctx := context.Background()

	strict := ipqs.Params{}
	if err := strict.Set(ipqs.KindIP, "strictness", "1"); err != nil {
		t.Fatal(err)
	}
	for _, req := range []ipqs.Request{
		ipRequest("185.220.101.4"),
		{Kind: ipqs.KindIP, Value: "185.220.101.4", Params: strict},
		{Kind: ipqs.KindURL, Value: "185.220.101.4"},
		ipRequest("185.220.101.4"),
	} {
		if _, err := c.Lookup(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	if n := next.calls.Load(); n != 3 {
		t.Errorf("IPQS calls = %d, want 3 (one per distinct kind and parameters)", n)
	}
}

func TestCacheCollapsesConcurrentLookups(t *testing.T) {
	next := &countingLooker{release: make(chan struct{})}
	c := New(next, Config{TTL: ttls})

	const callers = 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := c.Lookup(context.Background(), ipRequest("45.83.64.1"))
			errs <- err
		})
	}
	// Let every caller reach the flight before IPQS answers.
	time.Sleep(50 * time.Millisecond)
	close(next.release)
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := next.calls.Load(); n != 1 {
		t.Errorf("IPQS calls = %d, want 1", n)
	}
}

func TestCacheDoesNotKeepErrors(t *testing.T) {
	next := &countingLooker{err: &ipqs.Error{Kind: ipqs.ErrServer, Op: "ip", Status: 500}}
	c := New(next, Config{TTL: ttls})
	ctx := context.Background()

	for range 2 {
		_, err := c.Lookup(ctx, ipRequest("45.83.64.1"))
		if ipqs.KindOf(err) != ipqs.ErrServer {
			t.Fatalf("error = %v, want the server error passed through", err)
		}
	}
	if n := next.calls.Load(); n != 2 {
		t.Errorf("IPQS calls = %d, want 2 (errors are not cached)", n)
	}
}

func TestCacheDoesNotKeepIncompleteResults(t *testing.T) {
	next := lookerFunc(func(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
		return &ipqs.Result{Kind: ipqs.KindEmail, Email: &ipqs.EmailResult{Success: true, TimedOut: true}}, nil
	})
	c := New(next, Config{TTL: ttls})

	if _, err := c.Lookup(context.Background(), ipqs.Request{Kind: ipqs.KindEmail, Value: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d, want a timed-out email result not kept", c.Len())
	}
}

func TestCacheExpires(t *testing.T) {
	next := &countingLooker{}
	c := New(next, Config{TTL: map[ipqs.Kind]time.Duration{ipqs.KindIP: 20 * time.Millisecond}})
	ctx := context.Background()

	if _, err := c.Lookup(ctx, ipRequest("45.83.64.1")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(40 * time.Millisecond)
	res, err := c.Lookup(ctx, ipRequest("45.83.64.1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Cached || next.calls.Load() != 2 {
		t.Errorf("after the TTL: cached = %v, calls = %d; want a fresh call", res.Cached, next.calls.Load())
	}
}

func TestCacheEvictsOldestAtBound(t *testing.T) {
	next := &countingLooker{}
	c := New(next, Config{TTL: ttls, MaxEntries: 3})
	ctx := context.Background()

	for _, ip := range []string{"1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"} {
		if _, err := c.Lookup(ctx, ipRequest(ip)); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 3 {
		t.Errorf("Len = %d, want 3", c.Len())
	}

	res, err := c.Lookup(ctx, ipRequest("4.4.4.4"))
	if err != nil || !res.Cached {
		t.Errorf("newest entry: cached = %v, err = %v; want a hit", res != nil && res.Cached, err)
	}
	res, err = c.Lookup(ctx, ipRequest("1.1.1.1"))
	if err != nil || res.Cached {
		t.Errorf("oldest entry: cached = %v, err = %v; want it evicted", res != nil && res.Cached, err)
	}
}

func TestCacheCallerCancel(t *testing.T) {
	next := &countingLooker{release: make(chan struct{})}
	c := New(next, Config{TTL: ttls})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Lookup(ctx, ipRequest("45.83.64.1"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}

	// The flight goes on for others and fills the cache.
	close(next.release)
	res, err := c.Lookup(context.Background(), ipRequest("45.83.64.1"))
	if err != nil {
		t.Fatal(err)
	}
	if next.calls.Load() != 1 {
		t.Errorf("IPQS calls = %d, want 1; res cached = %v", next.calls.Load(), res.Cached)
	}
}

type lookerFunc func(ctx context.Context, req ipqs.Request) (*ipqs.Result, error)

func (f lookerFunc) Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
	return f(ctx, req)
}

// tierCounter counts cache reads by tier and result.
type tierCounter struct {
	mu    sync.Mutex
	reads map[string]int
}

func (c *tierCounter) CacheRead(tier string, hit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reads == nil {
		c.reads = make(map[string]int)
	}
	c.reads[fmt.Sprint(tier, " ", hit)]++
}

func TestCacheObserver(t *testing.T) {
	obs := &tierCounter{}
	c := New(&countingLooker{}, Config{TTL: ttls, Observer: obs})
	for range 3 {
		if _, err := c.Lookup(context.Background(), ipRequest("45.83.64.1")); err != nil {
			t.Fatal(err)
		}
	}
	if obs.reads["memory false"] != 1 || obs.reads["memory true"] != 2 {
		t.Errorf("reads = %v, want 1 memory miss and 2 memory hits", obs.reads)
	}
}
