// Package dedupe remembers keys, such as Slack event IDs, for a fixed time.
package dedupe

import (
	"context"
	"time"

	gocache "github.com/patrickmn/go-cache"
)

// DefaultTTL covers Slack's event retries, the last of which comes about
// 5 minutes after the first delivery.
const DefaultTTL = 15 * time.Minute

// Memory remembers keys in process memory. It is safe for concurrent use.
type Memory struct {
	seen *gocache.Cache
	ttl  time.Duration
}

// NewMemory returns a Memory that forgets a key ttl after it was first seen.
func NewMemory(ttl time.Duration) *Memory {
	return &Memory{seen: gocache.New(ttl, time.Minute), ttl: ttl}
}

// FirstSeen records key and reports whether it was new. Of concurrent calls
// with one key, exactly one returns true.
func (m *Memory) FirstSeen(_ context.Context, key string) bool {
	return m.seen.Add(key, struct{}{}, m.ttl) == nil
}
