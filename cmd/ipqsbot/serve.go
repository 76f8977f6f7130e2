package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/ipqsbot/ipqsbot/bot"
	"github.com/ipqsbot/ipqsbot/cache"
	"github.com/ipqsbot/ipqsbot/formatter"
	"github.com/ipqsbot/ipqsbot/guard"
	"github.com/ipqsbot/ipqsbot/handlers"
	"github.com/ipqsbot/ipqsbot/internal/audit"
	"github.com/ipqsbot/ipqsbot/internal/breaker"
	"github.com/ipqsbot/ipqsbot/internal/config"
	"github.com/ipqsbot/ipqsbot/internal/dedupe"
	"github.com/ipqsbot/ipqsbot/internal/logging"
	"github.com/ipqsbot/ipqsbot/internal/metrics"
	"github.com/ipqsbot/ipqsbot/internal/redisstore"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// authTestTimeout bounds the start-up check of the bot token.
const authTestTimeout = 30 * time.Second

// runBot starts the bot and blocks until ctx ends or Slack rejects the app.
func runBot(ctx context.Context, env config.Lookup, stderr io.Writer) int {
	cfg, ok := loadConfig(env, config.NeedAll, stderr)
	if !ok {
		return exitUsage
	}
	log := logging.New(stderr, cfg.LogFormat, cfg.LogLevel, cfg.SlackAppToken, cfg.SlackBotToken, cfg.IPQSKey, cfg.RedisURL)

	auditLog, err := openAudit(cfg.AuditLog, stderr)
	if err != nil {
		log.Error("start failed: AUDIT_LOG must be stderr, stdout, or the path of a file the bot can append to, such as /var/log/ipqsbot/audit.jsonl", "err", err)
		return exitFailure
	}
	defer auditLog.Close()
	setMemoryLimit(cfg, log)

	client := ipqs.New(ipqs.Config{
		BaseURL: cfg.IPQSBaseURL,
		Key:     cfg.IPQSKey,
		Logger:  log.With("component", "ipqs"),
	})
	limitCfg := guard.LimitConfig{
		PerUser:   cfg.UserLookupLimit,
		PerMinute: cfg.LookupLimitPerMinute,
		PerDay:    cfg.LookupLimitPerDay,
	}
	cacheCfg := cache.Config{TTL: cfg.CacheTTL, MaxEntries: cfg.CacheMaxEntries}
	var deduper handlers.Deduper = dedupe.NewMemory(dedupe.DefaultTTL)
	var readyChecks []metrics.Check
	if !cfg.RedisURL.IsZero() {
		store, err := openRedis(ctx, cfg, log)
		if err != nil {
			log.Error("start failed: check REDIS_URL", "err", err)
			return exitFailure
		}
		defer store.Close()
		cacheCfg.Shared = store
		limitCfg.Shared = store
		deduper = store
		readyChecks = append(readyChecks, redisReady(store))
	} else {
		log.Info("shared state: in process memory; set REDIS_URL to share the cache, de-duplication and lookup limits across replicas")
	}
	limits := guard.NewLimiter(limitCfg)
	// The limits sit behind the cache, so cache hits never count.
	// The breaker sits in front of the limits, so lookups it turns away
	// spend no tokens.
	m := metrics.New()
	cacheCfg.Observer = m
	lookups := cache.New(breaker.New(limits.Wrap(m.CountIPQS(client)), breaker.Config{Logger: log.With("component", "breaker")}), cacheCfg)

	b, err := bot.New(bot.Config{
		AppToken: cfg.SlackAppToken,
		BotToken: cfg.SlackBotToken,
		APIURL:   cfg.SlackAPIURL,
		Logger:   log.With("component", "bot"),
		Metrics:  m,
		Workers:  cfg.Workers,
	})
	if err != nil {
		log.Error("start failed", "err", err)
		return exitFailure
	}
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(ctx, cfg.MetricsAddr, m.Handler(append([]metrics.Check{b.Ready}, readyChecks...)...), log)
		switch {
		case err == nil:
			defer stopMetrics()
		case cfg.MetricsAddr == config.DefaultMetricsAddr:
			// A second bot on one host, or another program, may hold the
			// default port; only an address the operator chose must work.
			log.Warn("metrics and health endpoints off: the default METRICS_ADDR is in use; set METRICS_ADDR to another host:port or to none", "metrics_addr", cfg.MetricsAddr, "err", err)
		default:
			log.Error("start failed: check METRICS_ADDR, or set it to none", "metrics_addr", cfg.MetricsAddr, "err", err)
			return exitFailure
		}
	}

	authCtx, cancel := context.WithTimeout(ctx, authTestTimeout)
	id, err := b.AuthTest(authCtx)
	cancel()
	if err != nil {
		log.Error("start failed: check SLACK_BOT_TOKEN and SLACK_API_URL", "err", err)
		return exitFailure
	}
	log.Info("starting", "bot_user_id", id.UserID, "bot_id", id.BotID, "team_id", id.TeamID, "workers", cfg.Workers,
		"auto_enrich_kinds", cfg.AutoEnrichKinds, "auto_enrich_off", cfg.AutoEnrichOff,
		"auto_enrich_channels", cfg.AutoEnrichChannels, "auto_enrich_shared_channels", cfg.AutoEnrichSharedChannels,
		"max_indicators_auto", cfg.MaxIndicatorsAuto, "max_indicators_request", cfg.MaxIndicatorsRequest,
		"allowed_users", cfg.AllowedUsers, "allowed_usergroups", cfg.AllowedUsergroups,
		"allow_external_users", cfg.AllowExternalUsers, "user_lookup_limit", cfg.UserLookupLimit.String(),
		"lookup_limit_per_minute", cfg.LookupLimitPerMinute, "lookup_limit_per_day", cfg.LookupLimitPerDay,
		"admin_channel", cfg.AdminChannel, "credit_warn_at", fmt.Sprint(cfg.CreditWarnAt),
		"never_lookup_domains", cfg.NeverLookupDomains, "audit_log", cfg.AuditLog)

	var credits handlers.CreditObserver
	if cfg.AdminChannel != "" {
		watch := guard.NewCreditWatch(cfg.CreditWarnAt, client, adminChannel{b.Replier(), cfg.AdminChannel},
			guard.DefaultCreditInterval, log.With("component", "credits"))
		go watch.Run(ctx)
		credits = watch
	}

	h := handlers.New(handlers.Config{
		Lookup:  lookups,
		Account: client,
		Reply:   b.Replier(),
		Dedupe:  deduper,
		Logger:  log.With("component", "handlers"),
		Access: guard.NewAccess(guard.AccessConfig{
			AllowedUsers:       cfg.AllowedUsers,
			AllowedUsergroups:  cfg.AllowedUsergroups,
			AllowExternalUsers: cfg.AllowExternalUsers,
			HomeTeamID:         id.TeamID,
		}, b, log.With("component", "access")),
		Channels: guard.ChannelPolicy{
			Off:         cfg.AutoEnrichOff,
			Channels:    cfg.AutoEnrichChannels,
			AllowShared: cfg.AutoEnrichSharedChannels,
		},
		Domains:              guard.DomainPolicy{Never: cfg.NeverLookupDomains},
		Credits:              credits,
		Audit:                m.CountLookups(auditLog),
		AutoEnrichKinds:      cfg.AutoEnrichKinds,
		MaxIndicatorsAuto:    cfg.MaxIndicatorsAuto,
		MaxIndicatorsRequest: cfg.MaxIndicatorsRequest,
		BotUserID:            id.UserID,
		BotID:                id.BotID,
	})
	if err := b.Run(ctx, h); err != nil {
		log.Error("stopped: Slack closed the connection for good; check SLACK_APP_TOKEN", "err", err)
		return exitFailure
	}
	return exitOK
}

// serveMetrics listens on addr and serves h until ctx ends or the returned
// function is called, which also waits for the server to stop.
func serveMetrics(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics: %w", err)
	}
	log.Info("serving metrics and health", "metrics_addr", ln.Addr().String())

	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := metrics.Serve(ctx, ln, h); err != nil {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}, nil
}

// redisReady returns a readiness check of store. When the last call failed,
// it pings, so readiness returns once Redis responds again.
func redisReady(store *redisstore.Store) metrics.Check {
	return func(ctx context.Context) error {
		if store.Healthy() {
			return nil
		}
		// The error text stays in the store's log: the answer names the
		// dependency only.
		if store.Ping(ctx) != nil {
			return errors.New("redis: not reachable")
		}
		return nil
	}
}

// setMemoryLimit gives Go's runtime the soft memory limit that fits the
// cache, unless the process environment sets GOMEMLIMIT, "off" included,
// or the limit was already set.
func setMemoryLimit(cfg *config.Config, log *slog.Logger) {
	current := debug.SetMemoryLimit(-1)
	if value, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		log.Info("memory limit set by GOMEMLIMIT", "gomemlimit", value, "memory_limit_bytes", current)
		return
	}
	if current != math.MaxInt64 {
		log.Info("memory limit already set", "memory_limit_bytes", current)
		return
	}
	limit := cfg.MemoryLimit()
	debug.SetMemoryLimit(limit)
	log.Info("memory limit set from CACHE_MAX_ENTRIES; set GOMEMLIMIT to choose another", "memory_limit_bytes", limit)
}

// redisPingTimeout bounds the start-up check of Redis.
const redisPingTimeout = 5 * time.Second

// openRedis returns the store at REDIS_URL. Redis that does not respond at
// start is no error, because the bot runs on its own memory until Redis
// responds, and the store logs when it does.
func openRedis(ctx context.Context, cfg *config.Config, log *slog.Logger) (*redisstore.Store, error) {
	store, err := redisstore.New(redisstore.Config{
		URL:     cfg.RedisURL.Reveal(),
		SeenTTL: dedupe.DefaultTTL,
		Logger:  log.With("component", "redis"),
	})
	if err != nil {
		return nil, err
	}

	pingCtx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	err = store.Ping(pingCtx)
	cancel()
	log.Info("shared state: redis", "redis_url", cfg.RedisURLRedacted, "reachable", err == nil)
	return store, nil
}

// openAudit opens the audit log; "stderr" shares the process's stderr, so
// tests that capture it see the records.
func openAudit(dest string, stderr io.Writer) (*audit.Log, error) {
	if dest == "stderr" {
		return audit.FromLogger(audit.New(stderr)), nil
	}
	return audit.Open(dest)
}

// adminChannel posts credit warnings to ADMIN_CHANNEL.
type adminChannel struct {
	reply   handlers.Replier
	channel string
}

// Notify posts text to the admin channel, outside any thread.
func (a adminChannel) Notify(ctx context.Context, text string) error {
	return a.reply.PostThread(ctx, a.channel, "", "", formatter.Notice(text))
}
