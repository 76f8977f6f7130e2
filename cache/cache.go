// Package cache keeps IPQualityScore results in memory for a time per lookup
// kind, and collapses concurrent lookups of one indicator into one call.
// With a Shared tier, such as Redis, several processes share the results and
// make one call per indicator between them.
package cache

import (
	"context"
	"sync"
	"time"

	gocache "github.com/patrickmn/go-cache"
	"golang.org/x/sync/singleflight"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

// Looker runs one lookup. *ipqs.Client implements it, and so does *Cache.
type Looker interface {
	Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error)
}

// DefaultMaxEntries bounds the entry count when Config.MaxEntries is 0.
const DefaultMaxEntries = 100_000

// Config configures a Cache.
type Config struct {
	// TTL is how long a result of each kind is kept. A kind that is missing
	// or 0 is not cached.
	TTL map[ipqs.Kind]time.Duration
	// MaxEntries bounds the number of results kept in memory; 0 means
	// DefaultMaxEntries. At the bound, the oldest entry is evicted.
	MaxEntries int

	// Shared, when set, is a second tier behind the memory that other
	// processes read and write too; nil keeps results in this process only.
	Shared Shared
	// LockTTL is how long one process may hold the shared lock of an
	// indicator while it calls IPQS; 0 means DefaultLockTTL.
	LockTTL time.Duration
	// PollInterval is how often a process that waits for another's call
	// reads the shared tier; 0 means DefaultPollInterval.
	PollInterval time.Duration

	// Observer, when set, receives the result of every read of a tier.
	Observer Observer
}

// Observer receives the result of each read of a cache tier, for metrics.
type Observer interface {
	CacheRead(tier string, hit bool)
}

// Tier names passed to an Observer.
const (
	TierMemory = "memory"
	TierShared = "redis"
)

// Cache is a Looker that serves repeated lookups from memory. Only
// successful results are kept; errors always reach the caller and are never
// cached. It is safe for concurrent use.
type Cache struct {
	next  Looker
	ttl   map[ipqs.Kind]time.Duration
	max   int
	store *gocache.Cache
	group singleflight.Group

	shared   Shared
	observer Observer
	lockTTL  time.Duration
	poll     time.Duration

	mu sync.Mutex
	// order holds keys in insertion order, as a ring of max slots, so the
	// oldest can be evicted at the bound without scanning the store.
	order []string
	head  int
}

var _ Looker = (*Cache)(nil)

// New returns a Cache in front of next.
func New(next Looker, cfg Config) *Cache {
	maxEntries := cfg.MaxEntries
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	c := &Cache{
		next:     next,
		ttl:      cfg.TTL,
		max:      maxEntries,
		store:    gocache.New(gocache.NoExpiration, 10*time.Minute),
		order:    make([]string, 0, min(maxEntries, 1024)),
		shared:   cfg.Shared,
		observer: cfg.Observer,
		lockTTL:  cfg.LockTTL,
		poll:     cfg.PollInterval,
	}
	if c.lockTTL <= 0 {
		c.lockTTL = DefaultLockTTL
	}
	if c.poll <= 0 {
		c.poll = DefaultPollInterval
	}
	return c
}

// Lookup returns a fresh cached result for req, from memory or else from
// the shared tier. Otherwise it calls the next Looker once for all the
// goroutines that ask at the same time, and with a shared tier once for all
// the processes. A result that this call did not fetch from IPQS has Cached
// set and keeps the FetchedAt of the IPQS response.
func (c *Cache) Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
	key := Key(req)
	res, ok := c.get(key)
	c.observe(TierMemory, ok)
	if ok {
		return res, nil
	}

	// The shared call runs without the first caller's cancellation, because
	// it must not fail for the others when that caller gives up. Each caller
	// still stops waiting when its own context ends, and the IPQS client
	// bounds every call.
	ch := c.group.DoChan(key, func() (any, error) {
		if res, ok := c.get(key); ok {
			return res, nil
		}
		flight := context.WithoutCancel(ctx)
		if c.shared != nil && c.ttl[req.Kind] > 0 {
			return c.fetchShared(flight, key, req)
		}
		return c.fetch(flight, key, req, "")
	})

	select {
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		res := *r.Val.(*ipqs.Result)
		// Callers that joined a flight another goroutine started did not
		// cause an IPQS call, so they see the result as cached.
		res.Cached = res.Cached || r.Shared
		return &res, nil
	}
}

func (c *Cache) observe(tier string, hit bool) {
	if c.observer != nil {
		c.observer.CacheRead(tier, hit)
	}
}

// Key returns the cache key of req: equal requests, including their
// parameters, share one entry.
func Key(req ipqs.Request) string {
	return string(req.Kind) + "\x00" + req.Value + "\x00" + req.Params.Key()
}

// Len returns the number of entries, expired ones included until the
// periodic cleanup removes them.
func (c *Cache) Len() int { return c.store.ItemCount() }

func (c *Cache) get(key string) (*ipqs.Result, bool) {
	v, ok := c.store.Get(key)
	if !ok {
		return nil, false
	}
	res := *v.(*ipqs.Result)
	res.Cached = true
	return &res, true
}

// fetch calls IPQS and keeps a complete result in memory and, when
// sharedKey is not empty, in the shared tier.
func (c *Cache) fetch(ctx context.Context, key string, req ipqs.Request, sharedKey string) (*ipqs.Result, error) {
	res, err := c.next.Lookup(ctx, req)
	if err != nil {
		return nil, err
	}
	c.put(key, req.Kind, res)
	if sharedKey != "" {
		c.setShared(ctx, sharedKey, req.Kind, res)
	}
	return res, nil
}

func (c *Cache) put(key string, kind ipqs.Kind, res *ipqs.Result) {
	c.putFor(key, res, c.ttl[kind])
}

// putFor keeps res in memory for ttl.
func (c *Cache) putFor(key string, res *ipqs.Result, ttl time.Duration) {
	if ttl <= 0 || !complete(res) {
		return
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	if _, found := c.store.Get(key); !found {
		if len(c.order) < c.max {
			c.order = append(c.order, key)
		} else {
			c.store.Delete(c.order[c.head])
			c.order[c.head] = key
			c.head = (c.head + 1) % c.max
		}
	}
	// The decoded fields are all a reply needs. IPQS's raw body would more
	// than double the memory of an entry, and the shared tier keeps its own
	// copy.
	stored := *res
	stored.Raw = nil
	c.store.Set(key, &stored, ttl)
}

// complete reports whether res is a whole, successful answer worth keeping.
func complete(res *ipqs.Result) bool {
	switch res.Kind {
	case ipqs.KindIP:
		return res.IP != nil && bool(res.IP.Success)
	case ipqs.KindURL:
		return res.URL != nil && bool(res.URL.Success)
	case ipqs.KindEmail:
		return res.Email != nil && bool(res.Email.Success) && !bool(res.Email.TimedOut)
	}
	return false
}
