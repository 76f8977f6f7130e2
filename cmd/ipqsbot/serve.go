package main

import (
	"context"
	"io"
	"time"

	"github.com/ipqsbot/ipqsbot/bot"
	"github.com/ipqsbot/ipqsbot/cache"
	"github.com/ipqsbot/ipqsbot/handlers"
	"github.com/ipqsbot/ipqsbot/internal/config"
	"github.com/ipqsbot/ipqsbot/internal/dedupe"
	"github.com/ipqsbot/ipqsbot/internal/logging"
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
	log := logging.New(stderr, cfg.LogFormat, cfg.LogLevel, cfg.SlackAppToken, cfg.SlackBotToken, cfg.IPQSKey)

	client := ipqs.New(ipqs.Config{
		BaseURL: cfg.IPQSBaseURL,
		Key:     cfg.IPQSKey,
		Logger:  log.With("component", "ipqs"),
	})
	lookups := cache.New(client, cache.Config{TTL: cfg.CacheTTL})

	b, err := bot.New(bot.Config{
		AppToken: cfg.SlackAppToken,
		BotToken: cfg.SlackBotToken,
		APIURL:   cfg.SlackAPIURL,
		Logger:   log.With("component", "bot"),
	})
	if err != nil {
		log.Error("start failed", "err", err)
		return exitFailure
	}

	authCtx, cancel := context.WithTimeout(ctx, authTestTimeout)
	id, err := b.AuthTest(authCtx)
	cancel()
	if err != nil {
		log.Error("start failed: check SLACK_BOT_TOKEN and SLACK_API_URL", "err", err)
		return exitFailure
	}
	log.Info("starting", "bot_user_id", id.UserID, "bot_id", id.BotID, "team_id", id.TeamID,
		"auto_enrich_kinds", cfg.AutoEnrichKinds)

	h := handlers.New(handlers.Config{
		Lookup:          lookups,
		Account:         client,
		Reply:           b.Replier(),
		Dedupe:          dedupe.NewMemory(dedupe.DefaultTTL),
		Logger:          log.With("component", "handlers"),
		AutoEnrichKinds: cfg.AutoEnrichKinds,
		BotUserID:       id.UserID,
		BotID:           id.BotID,
	})
	if err := b.Run(ctx, h); err != nil {
		log.Error("stopped: Slack closed the connection for good; check SLACK_APP_TOKEN", "err", err)
		return exitFailure
	}
	return exitOK
}
