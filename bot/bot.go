// Package bot connects ipqsbot to Slack over Socket Mode: it acknowledges
// every envelope at once, turns envelopes into handler calls on a bounded
// worker pool, and posts replies through the Web API and response_url.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/ipqsbot/ipqsbot/handlers"
	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/internal/secret"
)

// Handler runs the use cases for envelopes. *handlers.Handler implements it.
type Handler interface {
	Command(ctx context.Context, cmd handlers.Command)
	CommandBusy(ctx context.Context, cmd handlers.Command)
	Event(ctx context.Context, ev handlers.Event)
	EventBusy(ctx context.Context, ev handlers.Event)
}

// Defaults for Config fields left zero.
const (
	DefaultWorkers      = 64
	DefaultQueueSize    = 1024
	DefaultDrainTimeout = 25 * time.Second
	// ackTimeout bounds one acknowledgement; Slack retries an envelope that
	// is not acknowledged within 3 seconds.
	ackTimeout = 2 * time.Second
	// busyReplies bounds the goroutines that tell users the queue is full.
	busyReplies = 32
)

// Config configures a Bot.
type Config struct {
	AppToken secret.Value
	BotToken secret.Value
	// APIURL is the Web API root, ending in "/".
	APIURL string
	Logger *slog.Logger

	// Workers is the number of envelopes handled at once.
	Workers int
	// QueueSize bounds the envelopes waiting for a worker. Past it, the user
	// gets a busy reply.
	QueueSize int
	// ReplyQueueSize bounds the replies that wait in one channel while
	// Slack rate-limits posts there. Past it, the requester gets an ephemeral message to retry.
	ReplyQueueSize int
	// DrainTimeout bounds the wait for in-flight work and queued replies at
	// shutdown.
	DrainTimeout time.Duration
	// Metrics records the envelopes and the connection; nil records
	// nothing.
	Metrics Metrics
}

// Metrics records what the bot observes. *metrics.Metrics implements it.
type Metrics interface {
	// Envelope counts a received envelope of a Socket Mode type, such as
	// events_api or slash_commands, and records the time.
	Envelope(typ string)
	// Ack records the time from reading an envelope to the end of its
	// acknowledgement.
	Ack(d time.Duration)
	// Reconnect counts a connection after the first.
	Reconnect()
	// ConnectionOpen counts a call of apps.connections.open; throttled is
	// true when the bot waited before it, to stay within its reconnect
	// bound.
	ConnectionOpen(throttled bool)
	// QueueDepth sets the number of envelopes waiting for a worker.
	QueueDepth(n int)
	// SlackPost counts a reply posted with method, such as
	// chat.postMessage or response_url.
	SlackPost(method string)
	// SlackRateLimited counts an HTTP 429 answer to method.
	SlackRateLimited(method string)
	// ReplyQueue sets the number of replies through method that wait
	// because Slack rate-limited their channels.
	ReplyQueue(method string, n int)
}

// noMetrics records nothing.
type noMetrics struct{}

func (noMetrics) Envelope(string)         {}
func (noMetrics) Ack(time.Duration)       {}
func (noMetrics) Reconnect()              {}
func (noMetrics) ConnectionOpen(bool)     {}
func (noMetrics) QueueDepth(int)          {}
func (noMetrics) SlackPost(string)        {}
func (noMetrics) SlackRateLimited(string) {}
func (noMetrics) ReplyQueue(string, int)  {}

// Identity is the bot's own user, bot and team IDs, from auth.test.
type Identity struct {
	UserID string
	BotID  string
	TeamID string
}

// Bot is a Socket Mode connection to Slack.
type Bot struct {
	cfg Config
	log *slog.Logger
	api *slack.Client
	// sockAPI opens Socket Mode connections, through gate.
	sockAPI *slack.Client
	gate    *openGate
	reply   *replier
	metrics Metrics
	// connected is true from a connected event until the connection fails
	// or Run returns.
	connected atomic.Bool
}

// New returns a Bot. It does not connect until Run.
func New(cfg Config) (*Bot, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.ReplyQueueSize <= 0 {
		cfg.ReplyQueueSize = DefaultReplyQueueSize
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := cfg.Metrics
	if m == nil {
		m = noMetrics{}
	}

	apiURL, err := url.Parse(cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("bot: invalid API URL: %w", err)
	}

	httpClient := &http.Client{Timeout: 30 * time.Second}
	api := slack.New(cfg.BotToken.Reveal(),
		slack.OptionAppLevelToken(cfg.AppToken.Reveal()),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(httpClient),
	)

	// The gate's wait must not count against a client timeout, so the
	// Socket Mode client has its own, with the time limits on the transport.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.ResponseHeaderTimeout = 30 * time.Second
	gate := newOpenGate(transport, openBurst, openEvery, log.With("component", "socketmode"), m)
	sockAPI := slack.New(cfg.BotToken.Reveal(),
		slack.OptionAppLevelToken(cfg.AppToken.Reveal()),
		slack.OptionAPIURL(cfg.APIURL),
		slack.OptionHTTPClient(&http.Client{Transport: gate}),
	)
	return &Bot{
		cfg:     cfg,
		log:     log,
		api:     api,
		sockAPI: sockAPI,
		gate:    gate,
		reply:   newReplier(api, httpClient, apiURL.Hostname(), cfg.ReplyQueueSize, m, log.With("component", "reply")),
		metrics: m,
	}, nil
}

// Connected reports whether the Socket Mode connection is up.
func (b *Bot) Connected() bool { return b.connected.Load() }

// Ready returns nil while the Socket Mode connection is up, and an error
// otherwise. It fits a readiness check.
func (b *Bot) Ready(context.Context) error {
	if !b.Connected() {
		return errors.New("slack: not connected")
	}
	return nil
}

// Replier returns the Bot's way of posting replies, for the handlers.
func (b *Bot) Replier() handlers.Replier { return b.reply }

// AuthTest checks the bot token and returns the bot's identity.
func (b *Bot) AuthTest(ctx context.Context) (Identity, error) {
	resp, err := b.api.AuthTestContext(ctx)
	if err != nil {
		return Identity{}, fmt.Errorf("auth.test with SLACK_BOT_TOKEN: %w", err)
	}
	return Identity{UserID: resp.UserID, BotID: resp.BotID, TeamID: resp.TeamID}, nil
}

// Run connects to Slack and handles envelopes with h until ctx ends or the
// connection fails for good (a revoked or invalid app token). When ctx ends
// it stops taking envelopes, so Slack delivers new ones to another connection
// or later, and waits up to DrainTimeout for work in flight. It returns nil
// after a shutdown, also when the drain timed out, which it logs.
func (b *Bot) Run(ctx context.Context, h Handler) error {
	sm := socketmode.New(b.sockAPI)

	// Work must outlive ctx so that a shutdown can finish it; it is cancelled
	// only when the drain times out.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	workers := newPool(workCtx, b.cfg.Workers, b.cfg.QueueSize, b.log)
	busy := make(chan struct{}, busyReplies)

	defer b.connected.Store(false)
	sockCtx, stopSocket := context.WithCancel(ctx)
	defer stopSocket()
	runErr := make(chan error, 1)
	go func() { runErr <- sm.RunContext(sockCtx) }()
	b.log.Info("connecting to Slack", "api_url", b.cfg.APIURL)

	s := &session{Bot: b, sm: sm, h: h, workers: workers, busy: busy, workCtx: workCtx}
	var fatal error
	runDone := false
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-runErr:
			runDone = true
			// RunContext also returns when ctx ends, and select may pick this
			// case before ctx.Done(): only an error before that is fatal.
			if ctx.Err() == nil {
				fatal = fmt.Errorf("socket mode: %w", err)
			}
			break loop
		case evt := <-sm.Events:
			s.handle(ctx, evt)
		}
	}

	if fatal == nil {
		b.log.Info("shutting down: no new envelopes", "queued", workers.depth())
	}
	stopSocket()
	if !runDone {
		<-runErr
	}
	deadline := time.Now().Add(b.cfg.DrainTimeout)
	if !workers.close(b.cfg.DrainTimeout) {
		b.log.Error("shutdown: work still running after the drain timeout was cancelled", "drain_timeout", b.cfg.DrainTimeout)
		cancelWork()
	}
	if b.reply.close(deadline) {
		b.log.Info("shutdown complete")
	} else {
		b.log.Error("shutdown: replies still queued after the drain timeout were dropped", "drain_timeout", b.cfg.DrainTimeout)
	}
	return fatal
}

// session is one Run: the Socket Mode client and where its work goes.
type session struct {
	*Bot
	sm      *socketmode.Client
	h       Handler
	workers *pool
	// busy bounds the goroutines that tell users the queue is full.
	busy chan struct{}
	// workCtx outlives Run's context until the drain ends.
	workCtx context.Context
	// connections counts connected events, so those after the first count
	// as reconnects.
	connections int
}

// handle acknowledges an envelope and queues its work.
func (s *session) handle(ctx context.Context, evt socketmode.Event) {
	read := time.Now()
	b, sm, h := s.Bot, s.sm, s.h
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.connected.Store(false)
		b.log.Debug("connecting")
		return
	case socketmode.EventTypeConnected:
		count := 0
		if c, ok := evt.Data.(*socketmode.ConnectedEvent); ok {
			count = c.ConnectionCount
		}
		b.connected.Store(true)
		s.connections++
		if s.connections > 1 {
			b.metrics.Reconnect()
		}
		b.log.Info("connected to Slack", "connection_count", count)
		return
	case socketmode.EventTypeHello:
		b.log.Debug("hello from Slack")
		return
	case socketmode.EventTypeConnectionError:
		b.connected.Store(false)
		b.log.Warn("connection to Slack failed; retrying", "err", eventError(evt))
		return
	case socketmode.EventTypeInvalidAuth:
		b.connected.Store(false)
		b.log.Error("Slack rejected SLACK_APP_TOKEN")
		return
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		b.log.Warn("socket mode read or write failed", "type", evt.Type, "err", eventError(evt))
		return
	case socketmode.EventTypeErrorBadMessage:
		// slack-go does not acknowledge what it cannot parse; Slack would
		// deliver it again and again.
		bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
		var id string
		if bad != nil {
			id = envelopeID(bad.Message)
		}
		b.log.Warn("unreadable envelope", "envelope_id", id, "err", eventError(evt))
		if id != "" {
			b.metrics.Envelope("unreadable")
			b.ack(ctx, sm, id, read)
		}
		return
	}

	if evt.Request == nil || evt.Request.EnvelopeID == "" {
		b.log.Debug("socket mode message without envelope", "type", evt.Type)
		return
	}
	req := evt.Request
	b.metrics.Envelope(req.Type)
	b.ack(ctx, sm, req.EnvelopeID, read)
	log := b.log.With("envelope_id", req.EnvelopeID, "type", req.Type)
	if req.RetryAttempt > 0 {
		log = log.With("retry_attempt", req.RetryAttempt, "retry_reason", req.RetryReason)
	}

	var run, reject func(ctx context.Context)
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		sc, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			log.Warn("slash command without payload")
			return
		}
		// NOTE: the payload's team_id is taken as the user's team. Whether
		// Slack sends the external user's team there for a command run in a
		// Slack Connect channel is not confirmed.
		cmd := handlers.Command{
			EnvelopeID: req.EnvelopeID, TeamID: sc.TeamID, ChannelID: sc.ChannelID,
			UserID: sc.UserID, Text: sc.Text, ResponseURL: sc.ResponseURL,
		}
		run = func(ctx context.Context) { h.Command(ctx, cmd) }
		reject = func(ctx context.Context) { h.CommandBusy(ctx, cmd) }
	case socketmode.EventTypeEventsAPI:
		ev, err := parseEvent(req.EnvelopeID, req.Payload)
		if err != nil {
			log.Warn("unreadable event payload", "err", err)
			return
		}
		run = func(ctx context.Context) { h.Event(ctx, ev) }
		reject = func(ctx context.Context) { h.EventBusy(ctx, ev) }
	default:
		log.Debug("envelope type has no handler: acknowledged only")
		return
	}

	// The job reports the depth when a worker takes it, so the gauge falls
	// as well as rises.
	queued := job{envelopeID: req.EnvelopeID, run: func(ctx context.Context) {
		b.metrics.QueueDepth(s.workers.depth())
		run(ctx)
	}}
	ok := s.workers.submit(queued)
	b.metrics.QueueDepth(s.workers.depth())
	if ok {
		return
	}
	log.Error("worker queue full: telling the user to retry", "queue_size", b.cfg.QueueSize)
	select {
	case s.busy <- struct{}{}:
		go func() {
			defer func() { <-s.busy }()
			reject(s.workCtx)
		}()
	default:
		log.Error("worker queue full and busy replies at their bound: request dropped")
	}
}

// ack acknowledges an envelope and gives up after ackTimeout. It records
// the time since read, when the envelope was read.
func (b *Bot) ack(ctx context.Context, sm *socketmode.Client, envelopeID string, read time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	err := sm.AckCtx(ctx, envelopeID, nil)
	b.metrics.Ack(time.Since(read))
	if err != nil {
		b.log.Error("acknowledge envelope failed", "envelope_id", envelopeID, "err", err)
	}
}

// callback is the part of an Events API payload the handlers need.
type callback struct {
	TeamID    string `json:"team_id"`
	EventID   string `json:"event_id"`
	ExtShared bool   `json:"is_ext_shared_channel"`
	Event     struct {
		Type        string          `json:"type"`
		Channel     string          `json:"channel"`
		ChannelType string          `json:"channel_type"`
		User        string          `json:"user"`
		UserTeam    string          `json:"user_team"`
		Team        string          `json:"team"`
		BotID       string          `json:"bot_id"`
		Subtype     string          `json:"subtype"`
		Hidden      bool            `json:"hidden"`
		Edited      json.RawMessage `json:"edited"`
		Text        string          `json:"text"`
		TS          string          `json:"ts"`
		ThreadTS    string          `json:"thread_ts"`
		Blocks      []richElement   `json:"blocks"`
	} `json:"event"`
}

// richElement is a block of a message, or an element inside one, as far as
// the link elements of rich_text blocks need: sections, lists, quotes and
// preformatted blocks nest elements, and links carry a URL and text.
type richElement struct {
	Type     string        `json:"type"`
	URL      string        `json:"url"`
	Text     any           `json:"text"`
	Elements []richElement `json:"elements"`
}

// maxRichDepth bounds the walk of nested rich_text elements.
const maxRichDepth = 8

// links returns the link elements of rich_text blocks, in order.
func links(blocks []richElement) []indicator.Link {
	var found []indicator.Link
	var walk func(els []richElement, depth int)
	walk = func(els []richElement, depth int) {
		if depth > maxRichDepth {
			return
		}
		for _, el := range els {
			if el.Type == "link" && el.URL != "" {
				// A link's text is a string; other elements' text may be an
				// object, which the type assertion leaves out.
				label, _ := el.Text.(string)
				found = append(found, indicator.Link{URL: el.URL, Text: label})
			}
			walk(el.Elements, depth+1)
		}
	}
	for _, b := range blocks {
		if b.Type == "rich_text" {
			walk(b.Elements, 1)
		}
	}
	return found
}

func parseEvent(envelopeID string, payload json.RawMessage) (handlers.Event, error) {
	var cb callback
	if err := json.Unmarshal(payload, &cb); err != nil {
		return handlers.Event{}, fmt.Errorf("decode event callback: %w", err)
	}
	e := cb.Event
	// Messages in Slack Connect channels name the poster's team in
	// user_team; other messages may carry it in team only.
	userTeam := e.UserTeam
	if userTeam == "" {
		userTeam = e.Team
	}
	return handlers.Event{
		EnvelopeID: envelopeID, EventID: cb.EventID, TeamID: cb.TeamID,
		UserTeam: userTeam, ExtShared: cb.ExtShared,
		Type: e.Type, Channel: e.Channel, ChannelType: e.ChannelType,
		User: e.User, BotID: e.BotID, Subtype: e.Subtype, Hidden: e.Hidden,
		Edited: len(e.Edited) > 0 && string(e.Edited) != "null",
		Text:   e.Text, TS: e.TS, ThreadTS: e.ThreadTS,
		Links: links(e.Blocks),
	}, nil
}

// envelopeID reads the envelope_id of a raw Socket Mode message, or "".
func envelopeID(raw json.RawMessage) string {
	var env struct {
		EnvelopeID string `json:"envelope_id"`
	}
	if json.Unmarshal(raw, &env) != nil {
		return ""
	}
	return env.EnvelopeID
}

// eventError returns the error a Socket Mode client event carries, if any.
func eventError(evt socketmode.Event) error {
	switch d := evt.Data.(type) {
	case *slack.ConnectionErrorEvent:
		return d.ErrorObj
	case *slack.IncomingEventError:
		return d.ErrorObj
	case *socketmode.ErrorBadMessage:
		return d.Cause
	case *socketmode.ErrorWriteFailed:
		return d.Cause
	case error:
		return d
	}
	return errors.New("no error detail")
}

// UserGroupMembers returns the user IDs of a user group, through
// usergroups.users.list (scope usergroups:read).
func (b *Bot) UserGroupMembers(ctx context.Context, groupID string) ([]string, error) {
	members, err := b.api.GetUserGroupMembersContext(ctx, groupID)
	if err != nil {
		return nil, fmt.Errorf("usergroups.users.list %s: %w", groupID, err)
	}
	return members, nil
}
