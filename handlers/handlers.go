// Package handlers holds ipqsbot's use cases: the /ipqs slash command,
// mentions and direct messages, and links pasted in channels. It turns Slack
// requests into lookups and replies, and does not depend on Socket Mode.
package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipqsbot/ipqsbot/formatter"
	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// Looker runs one lookup, normally through the cache.
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
	// PostThread posts msg in channel, in the thread of threadTS.
	PostThread(ctx context.Context, channel, threadTS string, msg formatter.Message) error
}

// Deduper remembers keys for a while. FirstSeen records key and reports
// whether it was new. Of concurrent calls with one key, exactly one returns
// true.
type Deduper interface {
	FirstSeen(ctx context.Context, key string) bool
}

// Per-message lookup bounds, so one paste cannot spend unbounded credits.
const (
	maxLookupsAuto    = 10
	maxLookupsRequest = 50
	lookupsInParallel = 8
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

// Config holds a Handler's dependencies and settings.
type Config struct {
	Lookup  Looker
	Account AccountReader
	Reply   Replier
	Dedupe  Deduper
	Logger  *slog.Logger

	// AutoEnrichKinds are looked up in channel messages that do not mention
	// the bot.
	AutoEnrichKinds []indicator.Kind
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
	return h
}

// Command is an /ipqs slash command.
type Command struct {
	EnvelopeID  string
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
	Type        string
	TeamID      string
	Channel     string
	ChannelType string
	User        string
	BotID       string
	Subtype     string
	Hidden      bool
	Edited      bool
	Text        string
	TS          string
	ThreadTS    string
	// Links are the link elements of the message's rich_text blocks.
	Links []indicator.Link
}

// entry names where a request came from, in logs.
type entry string

const (
	entryCommand entry = "command"
	entryMention entry = "mention"
	entryAuto    entry = "auto"
)

// Command answers a slash command through its response_url.
func (h *Handler) Command(ctx context.Context, cmd Command) {
	log := h.log.With("envelope_id", cmd.EnvelopeID, "channel", cmd.ChannelID, "user", cmd.UserID, "entry", entryCommand)
	msg := h.request(ctx, log, cmd.Text, nil)
	if err := h.cfg.Reply.Respond(ctx, cmd.ResponseURL, msg); err != nil {
		log.Error("reply to slash command failed", "err", err)
	}
}

// CommandBusy tells the user that cmd was not run because the bot is at
// capacity.
func (h *Handler) CommandBusy(ctx context.Context, cmd Command) {
	if err := h.cfg.Reply.Respond(ctx, cmd.ResponseURL, formatter.Problem(busyWhat, busyTodo)); err != nil {
		h.log.Error("reply to slash command failed", "envelope_id", cmd.EnvelopeID, "err", err)
	}
}

// Event handles a message or mention: a mention or direct message is a
// request and always gets a reply in its thread; any other channel message is
// enriched unasked when it holds indicators of the configured kinds.
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
	// A channel mention arrives as app_mention and as message: answer the
	// first of the two.
	if !h.cfg.Dedupe.FirstSeen(ctx, "msg:"+ev.Channel+":"+ev.TS) {
		log.Debug("message already handled")
		return
	}

	thread := ev.ThreadTS
	if thread == "" {
		thread = ev.TS
	}

	var msg formatter.Message
	if h.isRequest(ev) {
		log = log.With("entry", entryMention)
		msg = h.request(ctx, log, h.stripMention(ev.Text), ev.Links)
	} else {
		log = log.With("entry", entryAuto)
		var ok bool
		msg, ok = h.autoEnrich(ctx, log, ev.Text, ev.Links)
		if !ok {
			return
		}
	}

	if err := h.cfg.Reply.PostThread(ctx, ev.Channel, thread, msg); err != nil {
		log.Error("reply in thread failed", "err", err)
	}
}

// EventBusy tells the sender of a request that it was not run because the
// bot is at capacity. Pasted links are not answered then.
func (h *Handler) EventBusy(ctx context.Context, ev Event) {
	if h.ignoreReason(ev) != "" || !h.isRequest(ev) {
		return
	}
	thread := ev.ThreadTS
	if thread == "" {
		thread = ev.TS
	}
	if err := h.cfg.Reply.PostThread(ctx, ev.Channel, thread, formatter.Problem(busyWhat, busyTodo)); err != nil {
		h.log.Error("reply in thread failed", "envelope_id", ev.EnvelopeID, "err", err)
	}
}

// ignoreReason returns why ev needs no answer, or "".
func (h *Handler) ignoreReason(ev Event) string {
	switch {
	case ev.Type != "message" && ev.Type != "app_mention":
		return "event type " + ev.Type
	case ev.User != "" && ev.User == h.cfg.BotUserID, ev.BotID != "" && ev.BotID == h.cfg.BotID:
		return "own message"
	case ev.BotID != "" || ev.Subtype == "bot_message":
		return "bot message"
	case ev.Hidden:
		return "hidden message"
	case ev.Edited:
		return "edited message"
	case ev.Subtype != "" && !slices.Contains([]string{"thread_broadcast", "file_share", "me_message"}, ev.Subtype):
		return "subtype " + ev.Subtype
	case ev.User == "":
		return "no user"
	}
	return ""
}

// isRequest reports whether ev asks the bot for something: a mention, a
// message that mentions it, or a direct message.
func (h *Handler) isRequest(ev Event) bool {
	return ev.Type == "app_mention" || ev.ChannelType == "im" ||
		(h.cfg.BotUserID != "" && strings.Contains(ev.Text, "<@"+h.cfg.BotUserID))
}

// stripMention removes mentions of the bot, so "@ipqs help" reads as "help".
func (h *Handler) stripMention(text string) string {
	if h.cfg.BotUserID == "" {
		return text
	}
	text = strings.ReplaceAll(text, "<@"+h.cfg.BotUserID+">", " ")
	// The older <@U…|name> form.
	for {
		i := strings.Index(text, "<@"+h.cfg.BotUserID+"|")
		if i < 0 {
			break
		}
		j := strings.IndexByte(text[i:], '>')
		if j < 0 {
			break
		}
		text = text[:i] + " " + text[i+j+1:]
	}
	return strings.TrimSpace(text)
}

// request answers an explicit request: a slash command, mention or DM.
// links are the message's rich_text link elements, if any.
func (h *Handler) request(ctx context.Context, log *slog.Logger, text string, links []indicator.Link) formatter.Message {
	cmd, err := ParseCommand(text)
	if err != nil {
		log.Info("request rejected", "reason", err.Error())
		return formatter.Problem(err.Error(), "Send `/ipqs help` for the forms and their parameters.")
	}

	switch cmd.Action {
	case ActionHelp:
		return formatter.Usage()
	case ActionStatus:
		ctx, cancel := context.WithTimeout(ctx, statusTimeout)
		defer cancel()
		acct, err := h.cfg.Account.Account(ctx)
		if err != nil {
			log.Warn("account check failed", "err", err)
		} else {
			log.Info("account checked", "credits", acct.Credits.Value, "request_id", acct.RequestID)
		}
		return formatter.Status(acct, err, h.now())
	case ActionLookup:
		items := h.lookupAll(ctx, log, []indicator.Indicator{cmd.Indicator}, cmd.Params, maxLookupsRequest)
		return formatter.Results(items, h.now())
	}

	found := indicator.ExtractMessage(cmd.Text, links)
	if len(found) == 0 {
		return formatter.Problem(noIndicatorWhat, noIndicatorTodo)
	}
	items := h.lookupAll(ctx, log, found, nil, maxLookupsRequest)
	return formatter.Results(items, h.now())
}

// autoEnrich looks up the indicators of the enabled kinds in a pasted
// message. It returns false when nothing in the message is worth a reply.
func (h *Handler) autoEnrich(ctx context.Context, log *slog.Logger, text string, links []indicator.Link) (formatter.Message, bool) {
	var found []indicator.Indicator
	lookups := 0
	for _, ind := range indicator.ExtractMessage(text, links) {
		if !slices.Contains(h.cfg.AutoEnrichKinds, ind.Kind) {
			continue
		}
		found = append(found, ind)
		if ind.Skipped == "" {
			lookups++
		}
	}
	// Skipped indicators alone (a private address, a Slack link) are noise
	// in a channel nobody asked the bot in.
	if lookups == 0 {
		return formatter.Message{}, false
	}
	items := h.lookupAll(ctx, log, found, nil, maxLookupsAuto)

	// When every lookup failed, the cause is almost always the bot's own
	// (a rejected key, no credits, IPQS down), and an error card under every
	// pasted link would repeat it in each thread. The logs have each error.
	if !slices.ContainsFunc(items, func(it formatter.Item) bool { return it.Result != nil }) {
		log.Warn("no reply to pasted message: every lookup failed", "lookups", lookups)
		return formatter.Message{}, false
	}
	return formatter.Results(items, h.now()), true
}

// lookupAll looks up every indicator that is not skipped, at most limit of
// them and a few at a time, and returns the outcomes in input order.
func (h *Handler) lookupAll(ctx context.Context, log *slog.Logger, inds []indicator.Indicator, params ipqs.Params, limit int) []formatter.Item {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()

	items := make([]formatter.Item, len(inds))
	sem := make(chan struct{}, lookupsInParallel)
	var wg sync.WaitGroup

	lookups := 0
	for i, ind := range inds {
		items[i].Indicator = ind
		if ind.Skipped != "" {
			continue
		}
		if lookups == limit {
			items[i].Indicator.Skipped = overLimit(limit)
			continue
		}
		lookups++

		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()

			req := ipqs.Request{Kind: APIKind(ind.Kind), Value: ind.LookupValue(), Params: params}
			res, err := h.cfg.Lookup.Lookup(ctx, req)
			items[i].Result, items[i].Err = res, err
			if err != nil {
				log.Warn("lookup failed", "kind", ind.Kind, "indicator", ind.Redacted(), "err", err)
				return
			}
			log.Info("lookup", "kind", ind.Kind, "indicator", ind.Redacted(), "cached", res.Cached,
				"verdict", formatter.Verdict(res), "request_id", res.RequestID())
		})
	}
	wg.Wait()
	return items
}

func overLimit(limit int) string {
	return fmt.Sprintf("over the limit of %d lookups per message", limit)
}

// APIKind returns the IPQS API that checks indicators of kind k. Bare
// domains go to the URL scanner.
func APIKind(k indicator.Kind) ipqs.Kind {
	switch k {
	case indicator.KindIP:
		return ipqs.KindIP
	case indicator.KindEmail:
		return ipqs.KindEmail
	}
	return ipqs.KindURL
}
