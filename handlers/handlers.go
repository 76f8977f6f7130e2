// Package handlers holds ipqsbot's use cases: the /ipqs slash command,
// mentions and direct messages, and links pasted in channels. It turns Slack
// requests into lookups and replies, applies the admin's guards, and does
// not depend on Socket Mode.
package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/ipqsbot/ipqsbot/formatter"
	"github.com/ipqsbot/ipqsbot/guard"
	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/internal/audit"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// Looker runs one lookup, normally through the cache and the spend limits.
type Looker interface {
	Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error)
}

// AccountReader reads the IPQualityScore account for /ipqs status.
type AccountReader interface {
	Account(ctx context.Context) (*ipqs.Account, error)
}

// Replier sends replies to Slack.
type Replier interface {
	// Respond posts msg to a slash command's response_url, visible only to
	// the user who ran the command.
	Respond(ctx context.Context, responseURL string, msg formatter.Message) error
	// PostThread posts msg in channel, in the thread of threadTS. When
	// requester is set and msg cannot be posted, now or later, the replier
	// posts an ephemeral message to requester that says so.
	PostThread(ctx context.Context, channel, threadTS, requester string, msg formatter.Message) error
}

// Deduper remembers keys for a while. FirstSeen records key and reports
// whether it was new. Of concurrent calls with one key, exactly one returns
// true.
type Deduper interface {
	FirstSeen(ctx context.Context, key string) bool
}

// AccessChecker decides who may run lookups. *guard.Access implements it.
type AccessChecker interface {
	Check(ctx context.Context, userID, userTeamID string) *guard.Denial
}

// CreditObserver receives readings of the credits left.
// *guard.CreditWatch implements it.
type CreditObserver interface {
	Observe(ctx context.Context, credits int64)
}

// Auditor records every lookup. *audit.Log implements it.
type Auditor interface {
	Lookup(ctx context.Context, r audit.Record)
}

// Defaults of the per-message lookup caps.
const (
	DefaultMaxIndicatorsAuto    = 10
	DefaultMaxIndicatorsRequest = 50
)

// Time bounds of one request. The IPQS client bounds each attempt; these
// bound the retries too. An email lookup with timeout=60 needs over a minute.
const (
	statusTimeout  = 15 * time.Second
	requestTimeout = 2 * time.Minute
)

// Replies for requests that cannot be run.
const (
	noIndicatorWhat = "No IP address, URL, domain or email address found in your message."
	noIndicatorTodo = "Send an IP address, URL, domain or email address, such as `185.220.101.4` or `hxxps://login-example[.]com/x`. Send `/ipqs help` for every form."
	busyWhat        = "ipqsbot is too busy to take this request right now."
	busyTodo        = "Try again in a minute."
)

// Config holds a Handler's dependencies and settings. Lookup, Account,
// Reply and Dedupe are required; the guards left nil allow everything.
type Config struct {
	Lookup  Looker
	Account AccountReader
	Reply   Replier
	Dedupe  Deduper
	Logger  *slog.Logger

	// Access decides who may run lookups; nil allows everyone.
	Access AccessChecker
	// Channels decides where pasted links are enriched unasked.
	Channels guard.ChannelPolicy
	// Domains decides which host names are never sent to IPQS.
	Domains guard.DomainPolicy
	// Credits receives the credits that /ipqs status reads; nil ignores them.
	Credits CreditObserver
	// Audit records every lookup; nil records nothing.
	Audit Auditor

	// AutoEnrichKinds are looked up in channel messages that do not mention
	// the bot.
	AutoEnrichKinds []indicator.Kind
	// MaxIndicatorsAuto and MaxIndicatorsRequest cap the lookups of one
	// pasted message and of one request; 0 means the defaults.
	MaxIndicatorsAuto    int
	MaxIndicatorsRequest int

	// BotUserID and BotID identify the bot's own messages, from auth.test.
	BotUserID string
	BotID     string

	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Handler runs the use cases. It is safe for concurrent use.
type Handler struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
}

// New returns a Handler.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.cfg.MaxIndicatorsAuto <= 0 {
		h.cfg.MaxIndicatorsAuto = DefaultMaxIndicatorsAuto
	}
	if h.cfg.MaxIndicatorsRequest <= 0 {
		h.cfg.MaxIndicatorsRequest = DefaultMaxIndicatorsRequest
	}
	return h
}

// Command is an /ipqs slash command.
type Command struct {
	EnvelopeID string
	// TeamID is the team of the user who ran the command.
	TeamID      string
	ChannelID   string
	UserID      string
	Text        string
	ResponseURL string
}

// Event is a message or app_mention event from the Events API.
type Event struct {
	EnvelopeID string
	EventID    string
	// Type is "app_mention" or "message".
	Type string
	// TeamID is the workspace the event was delivered for.
	TeamID string
	// UserTeam is the team of the user who posted; it differs from the
	// bot's team for users of other organisations in Slack Connect channels.
	UserTeam    string
	Channel     string
	ChannelType string
	// ExtShared reports a channel shared with other organisations.
	ExtShared bool
	User      string
	BotID     string
	Subtype   string
	Hidden    bool
	Edited    bool
	Text      string
	TS        string
	ThreadTS  string
	// Links are the link elements of the message's rich_text blocks.
	Links []indicator.Link
}

// origin is who asked for lookups, where and how, for the audit log and the
// per-user limit.
type origin struct {
	entry   string
	team    string
	channel string
	user    string
}

// Command runs a slash command and posts the reply to its response_url.
func (h *Handler) Command(ctx context.Context, cmd Command) {
	log := h.log.With("envelope_id", cmd.EnvelopeID, "channel", cmd.ChannelID, "user", cmd.UserID, "entry", audit.EntryCommand)
	from := origin{entry: audit.EntryCommand, team: cmd.TeamID, channel: cmd.ChannelID, user: cmd.UserID}

	msg := h.request(ctx, log, from, cmd.TeamID, cmd.Text, nil)
	if err := h.cfg.Reply.Respond(ctx, cmd.ResponseURL, msg); err != nil {
		log.Error("reply to slash command failed", "err", err)
	}
}

// CommandBusy replies to the user that cmd was not run because the bot is at
// capacity.
func (h *Handler) CommandBusy(ctx context.Context, cmd Command) {
	if err := h.cfg.Reply.Respond(ctx, cmd.ResponseURL, formatter.Problem(busyWhat, busyTodo)); err != nil {
		h.log.Error("reply to slash command failed", "envelope_id", cmd.EnvelopeID, "err", err)
	}
}

// Event handles a message or mention. A mention or direct message is a
// request and always gets a reply in its thread. Any other channel message
// is enriched unasked when the channel policy allows it and the message
// holds indicators of the configured kinds.
func (h *Handler) Event(ctx context.Context, ev Event) {
	log := h.log.With("envelope_id", ev.EnvelopeID, "event_id", ev.EventID, "channel", ev.Channel, "user", ev.User, "ts", ev.TS)

	if ev.EventID != "" && !h.cfg.Dedupe.FirstSeen(ctx, "event:"+ev.EventID) {
		log.Debug("duplicate event ignored")
		return
	}
	if reason := h.ignoreReason(ev); reason != "" {
		log.Debug("event ignored", "reason", reason)
		return
	}
	// A channel mention arrives as app_mention and as message, so only the
	// first of the two gets a reply.
	if !h.cfg.Dedupe.FirstSeen(ctx, "msg:"+ev.Channel+":"+ev.TS) {
		log.Debug("message already handled")
		return
	}

	userTeam := ev.UserTeam
	if userTeam == "" {
		userTeam = ev.TeamID
	}

	var msg formatter.Message
	if h.isRequest(ev) {
		log = log.With("entry", audit.EntryMention)
		from := origin{entry: audit.EntryMention, team: ev.TeamID, channel: ev.Channel, user: ev.User}
		msg = h.request(ctx, log, from, userTeam, h.stripMention(ev.Text), ev.Links)
	} else {
		log = log.With("entry", audit.EntryAuto)
		if ok, reason := h.cfg.Channels.AutoEnrich(ev.Channel, ev.ExtShared); !ok {
			log.Debug("pasted message not enriched", "reason", reason)
			return
		}
		if denial := h.checkAccess(ctx, ev.User, userTeam); denial != nil {
			log.Debug("pasted message not enriched: user not allowed", "reason", denial.Reason)
			return
		}
		from := origin{entry: audit.EntryAuto, team: ev.TeamID, channel: ev.Channel, user: ev.User}
		var ok bool
		msg, ok = h.autoEnrich(ctx, log, from, ev.Text, ev.Links)
		if !ok {
			return
		}
	}

	// Only the sender of a request gets an ephemeral message when the reply
	// cannot be posted. Pasted links that nobody asked about do not.
	var requester string
	if h.isRequest(ev) {
		requester = ev.User
	}
	if err := h.cfg.Reply.PostThread(ctx, ev.Channel, threadOf(ev), requester, msg); err != nil {
		log.Error("reply in thread failed", "err", err)
	}
}

// EventBusy replies to the sender of a request that it was not run because the
// bot is at capacity. Pasted links are not answered then.
func (h *Handler) EventBusy(ctx context.Context, ev Event) {
	if h.ignoreReason(ev) != "" || !h.isRequest(ev) {
		return
	}
	// A mention arrives as app_mention and as message, and Slack may retry
	// either, so the same keys as Event's keep it to one busy reply.
	if ev.EventID != "" && !h.cfg.Dedupe.FirstSeen(ctx, "event:"+ev.EventID) {
		return
	}
	if !h.cfg.Dedupe.FirstSeen(ctx, "msg:"+ev.Channel+":"+ev.TS) {
		return
	}
	if err := h.cfg.Reply.PostThread(ctx, ev.Channel, threadOf(ev), ev.User, formatter.Problem(busyWhat, busyTodo)); err != nil {
		h.log.Error("reply in thread failed", "envelope_id", ev.EnvelopeID, "err", err)
	}
}

// threadOf returns the thread a reply to ev belongs in.
func threadOf(ev Event) string {
	if ev.ThreadTS != "" {
		return ev.ThreadTS
	}
	return ev.TS
}

// checkAccess returns why user may not run lookups, or nil.
func (h *Handler) checkAccess(ctx context.Context, user, userTeam string) *guard.Denial {
	if h.cfg.Access == nil {
		return nil
	}
	return h.cfg.Access.Check(ctx, user, userTeam)
}
