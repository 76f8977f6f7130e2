package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

// Shared is a store that several processes use together, such as Redis.
// *redisstore.Store implements it. An error from any method makes the Cache
// carry on as if the shared tier were absent for that lookup.
type Shared interface {
	// Get returns the value under key and whether there is one.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Set stores value under key for ttl.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Lock takes the lock named key for ttl unless another process holds
	// it, and reports whether it did. unlock releases the lock only while
	// it is still the caller's.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context), held bool, err error)
}

// Defaults of the shared tier.
const (
	// DefaultLockTTL covers one IPQS lookup with its retries at the default
	// parameters. A process waits at most this long for another's call, and
	// it takes over as soon as the other releases the lock or crashes and
	// the lock expires.
	DefaultLockTTL = 90 * time.Second
	// DefaultPollInterval is how often a waiting process reads the result.
	DefaultPollInterval = 40 * time.Millisecond
)

// sharedVersion starts every shared key, so that processes of a later
// version with a different encoding do not read this one's entries.
const sharedVersion = "v1:"

// fetchShared returns the shared result for req, or takes the shared lock
// and calls IPQS, or waits for the process that holds the lock to store the
// result. When the shared tier fails, it calls IPQS without it.
func (c *Cache) fetchShared(ctx context.Context, key string, req ipqs.Request) (*ipqs.Result, error) {
	sharedKey := SharedKey(req)
	if res, ok := c.getShared(ctx, key, sharedKey, req); ok {
		return res, nil
	}

	waitUntil := time.Now().Add(c.lockTTL)
	for {
		unlock, held, err := c.shared.Lock(ctx, sharedKey, c.lockTTL)
		if err != nil {
			return c.fetch(ctx, key, req, "")
		}
		if held {
			defer unlock(ctx)
			// The previous holder may have stored the result between the
			// read above and taking the lock.
			if res, ok := c.getShared(ctx, key, sharedKey, req); ok {
				return res, nil
			}
			return c.fetch(ctx, key, req, sharedKey)
		}

		if time.Now().After(waitUntil) {
			return c.fetch(ctx, key, req, sharedKey)
		}
		time.Sleep(c.poll)
		if res, ok := c.getShared(ctx, key, sharedKey, req); ok {
			return res, nil
		}
	}
}

// getShared reads req's result from the shared tier and keeps it in memory
// until it expires by this process's TTL. A result older than that TTL, one
// that does not decode, and a failed read all count as a miss.
func (c *Cache) getShared(ctx context.Context, key, sharedKey string, req ipqs.Request) (*ipqs.Result, bool) {
	data, found, err := c.shared.Get(ctx, sharedKey)
	c.observe(TierShared, err == nil && found)
	if err != nil || !found {
		return nil, false
	}
	res, err := decodeShared(data)
	if err != nil || res.Kind != req.Kind || res.Value != req.Value {
		return nil, false
	}

	left := c.ttl[req.Kind] - time.Since(res.FetchedAt)
	if left <= 0 {
		return nil, false
	}
	c.putFor(key, res, left)
	res.Cached = true
	return res, true
}

// setShared stores a complete res in the shared tier for the kind's TTL.
// A failure only costs other processes a lookup, so it is not returned:
// the shared store reports its own outages.
func (c *Cache) setShared(ctx context.Context, sharedKey string, kind ipqs.Kind, res *ipqs.Result) {
	ttl := c.ttl[kind]
	if ttl <= 0 || !complete(res) {
		return
	}
	data, err := encodeShared(res)
	if err != nil {
		return
	}
	_ = c.shared.Set(ctx, sharedKey, data, ttl)
}

// SharedKey returns the key of req in the shared tier: the lookup kind and a
// SHA-256 digest of Key(req), so that key length stays fixed whatever the
// indicator's.
func SharedKey(req ipqs.Request) string {
	sum := sha256.Sum256([]byte(Key(req)))
	return sharedVersion + string(req.Kind) + ":" + hex.EncodeToString(sum[:])
}

// sharedEntry is the JSON form of a result in the shared tier. Raw is kept
// as bytes, which JSON encodes in base64, so that the IPQS body comes back
// exactly as received rather than re-indented.
type sharedEntry struct {
	Kind      ipqs.Kind         `json:"kind"`
	Value     string            `json:"value"`
	FetchedAt time.Time         `json:"fetched_at"`
	Raw       []byte            `json:"raw,omitempty"`
	IP        *ipqs.IPResult    `json:"ip,omitempty"`
	URL       *ipqs.URLResult   `json:"url,omitempty"`
	Email     *ipqs.EmailResult `json:"email,omitempty"`
}

func encodeShared(res *ipqs.Result) ([]byte, error) {
	return json.Marshal(sharedEntry{
		Kind:      res.Kind,
		Value:     res.Value,
		FetchedAt: res.FetchedAt,
		Raw:       res.Raw,
		IP:        res.IP,
		URL:       res.URL,
		Email:     res.Email,
	})
}

func decodeShared(data []byte) (*ipqs.Result, error) {
	var e sharedEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return &ipqs.Result{
		Kind:      e.Kind,
		Value:     e.Value,
		FetchedAt: e.FetchedAt,
		Raw:       e.Raw,
		IP:        e.IP,
		URL:       e.URL,
		Email:     e.Email,
	}, nil
}
