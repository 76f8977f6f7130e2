// Package redisstore keeps the state that replicas of the bot share in
// Redis: cached lookup results, short locks that let one replica call IPQS
// for an indicator while the others wait, the event IDs already handled, and
// the counters of the lookup limits.
package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/ipqsbot/ipqsbot/internal/dedupe"
)

// Defaults for Config fields left at zero.
const (
	DefaultPrefix  = "ipqsbot:"
	DefaultTimeout = 500 * time.Millisecond
	// DefaultProbeInterval is how often a Store that found Redis unreachable
	// sends a call through to see whether it is back. In between, calls fail
	// at once, so an outage does not slow every lookup by a timeout.
	DefaultProbeInterval = time.Second
)

// ErrUnavailable is returned, wrapped, by calls that were not sent because
// Redis was unreachable at the last attempt.
var ErrUnavailable = errors.New("redis unreachable")

// Config configures a Store.
type Config struct {
	// URL is a redis:// or rediss:// (TLS) URL as go-redis's ParseURL reads
	// it, such as redis://:password@127.0.0.1:6379/0.
	URL string
	// Prefix starts every key; DefaultPrefix when empty. The kinds of keys
	// follow it: "cache:", "lock:", "seen:" and "limit:".
	Prefix string
	// Timeout bounds each call to Redis; DefaultTimeout when 0.
	Timeout time.Duration
	// SeenTTL is how long FirstSeen remembers a key; dedupe.DefaultTTL when 0.
	SeenTTL time.Duration
	// ProbeInterval is DefaultProbeInterval when 0.
	ProbeInterval time.Duration
	// Logger receives outage and recovery records; slog.Default when nil.
	Logger *slog.Logger
}

// Store is a Redis client for the bot's shared state. It is safe for
// concurrent use. Every method bounds its call with the configured timeout,
// and no method fails a lookup or an event: callers fall back to their
// own memory on an error, and FirstSeen does so itself.
type Store struct {
	client   *redis.Client
	prefix   string
	timeout  time.Duration
	seenTTL  time.Duration
	probe    time.Duration
	log      *slog.Logger
	fallback *dedupe.Memory
	shown    string

	// up is set while the last call reached Redis. mu guards down and
	// lastProbe, so that one record marks each outage and each recovery,
	// and lastProbe is when a call was last let through during an outage.
	up        atomic.Bool
	mu        sync.Mutex
	down      bool
	lastProbe time.Time
}

// unlockScript deletes a lock only while it still holds the caller's token,
// so a holder whose lock expired cannot delete the next holder's lock.
var unlockScript = redis.NewScript(`
if redis.call("get", KEYS[1]) == ARGV[1] then
	return redis.call("del", KEYS[1])
end
return 0`)

var setLoggerOnce sync.Once

// New returns a Store for cfg.URL. It does not connect: the first call, or
// Ping, does. The error names the URL only in its redacted form.
func New(cfg Config) (*Store, error) {
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redisstore: parse URL %s: %w", Redacted(cfg.URL), err)
	}
	s := &Store{
		prefix:  cfg.Prefix,
		timeout: cfg.Timeout,
		seenTTL: cfg.SeenTTL,
		probe:   cfg.ProbeInterval,
		log:     cfg.Logger,
		shown:   Redacted(cfg.URL),
	}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.seenTTL <= 0 {
		s.seenTTL = dedupe.DefaultTTL
	}
	if s.probe <= 0 {
		s.probe = DefaultProbeInterval
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.fallback = dedupe.NewMemory(s.seenTTL)

	// The per-call context deadline is the bound that matters, so go-redis
	// must honour it, and its own retries must fit inside it.
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout = min(opts.DialTimeout, s.timeout)
	opts.ReadTimeout = min(opts.ReadTimeout, s.timeout)
	opts.WriteTimeout = min(opts.WriteTimeout, s.timeout)
	opts.MaxRetries = 1
	opts.DialerRetries = 1
	opts.DisableIdentity = true
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	s.client = redis.NewClient(opts)

	// go-redis logs through one package-wide logger. Its pool messages
	// repeat on every failed dial, so they go to debug; the Store logs the
	// outage itself, once.
	logger := s.log
	setLoggerOnce.Do(func() { redis.SetLogger(debugLogger{logger.With("component", "go-redis")}) })
	return s, nil
}

// Redacted returns rawURL with any password replaced by "xxxxx", for logs.
// A URL that does not parse is returned as a placeholder.
func Redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// String returns the Store's URL without its password.
func (s *Store) String() string { return s.shown }

// Close closes the connections.
func (s *Store) Close() error { return s.client.Close() }

// Healthy reports whether the last call reached Redis. It is false before
// the first call; Ping makes one.
func (s *Store) Healthy() bool { return s.up.Load() }

// Ping sends PING to Redis and records whether it responded.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return s.end(ctx, s.client.Ping(ctx).Err())
}

// Get returns the cached value under key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer cancel()

	value, err := s.client.Get(ctx, s.prefix+"cache:"+key).Bytes()
	if errors.Is(err, redis.Nil) {
		s.end(ctx, nil)
		return nil, false, nil
	}
	if err := s.end(ctx, err); err != nil {
		return nil, false, err
	}
	return value, true, nil
}

// Set caches value under key for ttl.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return s.end(ctx, s.client.Set(ctx, s.prefix+"cache:"+key, value, ttl).Err())
}

// Lock takes the lock named key for ttl unless another caller holds it, and
// reports whether it did. unlock releases the lock only while it is still
// the caller's: after ttl, another caller may hold it. unlock is nil unless
// the lock was taken.
func (s *Store) Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context), held bool, err error) {
	var buf [16]byte
	_, _ = rand.Read(buf[:])
	token := hex.EncodeToString(buf[:])
	lockKey := s.prefix + "lock:" + key

	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer cancel()

	held, err = s.client.SetNX(ctx, lockKey, token, ttl).Result()
	if err := s.end(ctx, err); err != nil {
		return nil, false, err
	}
	if !held {
		return nil, false, nil
	}

	unlock = func(ctx context.Context) {
		ctx, cancel, err := s.begin(ctx)
		if err != nil {
			return
		}
		defer cancel()
		err = unlockScript.Run(ctx, s.client, []string{lockKey}, token).Err()
		if err := s.end(ctx, err); err != nil {
			s.log.Debug("redis unlock failed; the lock expires by itself", "ttl", ttl, "err", err)
		}
	}
	return unlock, true, nil
}

// FirstSeen records key and reports whether it was new, across every
// replica that shares the Redis database. Keys are kept for the configured
// SeenTTL. When Redis cannot be reached, FirstSeen returns the result of
// this process's memory, which also records every key seen while Redis was up,
// so a retry that reaches the same replica is still recognised. It
// implements handlers.Deduper.
func (s *Store) FirstSeen(ctx context.Context, key string) bool {
	local := s.fallback.FirstSeen(ctx, key)

	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return local
	}
	defer cancel()

	first, err := s.client.SetNX(ctx, s.prefix+"seen:"+key, 1, s.seenTTL).Result()
	if err := s.end(ctx, err); err != nil {
		return local
	}
	return first
}

// begin returns the context of one call, or ErrUnavailable while an outage
// lasts and no probe is due.
func (s *Store) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if !s.up.Load() {
		s.mu.Lock()
		wait := s.down && time.Since(s.lastProbe) < s.probe
		if !wait && s.down {
			s.lastProbe = time.Now()
		}
		s.mu.Unlock()
		if wait {
			return nil, nil, fmt.Errorf("redisstore: %w", ErrUnavailable)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	return ctx, cancel, nil
}

// end records whether a call reached Redis, logging the first failure of an
// outage and the recovery, and returns err wrapped.
func (s *Store) end(ctx context.Context, err error) error {
	if err == nil || isServerReply(err) {
		if !s.up.Swap(true) {
			s.mu.Lock()
			if s.down {
				s.down = false
				s.log.Info("redis reachable again; sharing the cache, de-duplication and lookup limits across replicas", "redis_url", s.shown)
			}
			s.mu.Unlock()
		}
		if err != nil {
			return fmt.Errorf("redisstore: %w", err)
		}
		return nil
	}

	// A canceled caller tells nothing about Redis.
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("redisstore: %w", err)
	}

	s.up.Store(false)
	s.mu.Lock()
	if !s.down {
		s.down = true
		s.lastProbe = time.Now()
		s.log.Warn("redis unreachable; lookups use this process's cache, call IPQS without the shared lock and count against this process's limits only, and event de-duplication falls back to this process's memory, until Redis responds again",
			"redis_url", s.shown, "err", err)
	}
	s.mu.Unlock()
	return fmt.Errorf("redisstore: %w", err)
}

// isServerReply reports whether err is an error reply from Redis, such as
// a script error: Redis responded, so it is reachable.
func isServerReply(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply)
}

// debugLogger passes go-redis's internal messages to slog at debug level.
type debugLogger struct{ log *slog.Logger }

func (l debugLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...))
}
