package handlers

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/formatter"
	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/internal/dedupe"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// fakeLooker records lookups and returns a clean result for each.
type fakeLooker struct {
	mu   sync.Mutex
	reqs []ipqs.Request
	err  error
}

func (l *fakeLooker) Lookup(_ context.Context, req ipqs.Request) (*ipqs.Result, error) {
	l.mu.Lock()
	l.reqs = append(l.reqs, req)
	l.mu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	res := &ipqs.Result{Kind: req.Kind, Value: req.Value, FetchedAt: time.Now()}
	switch req.Kind {
	case ipqs.KindIP:
		res.IP = &ipqs.IPResult{Success: true, RequestID: "r-ip"}
	case ipqs.KindURL:
		res.URL = &ipqs.URLResult{Success: true, RequestID: "r-url"}
	case ipqs.KindEmail:
		res.Email = &ipqs.EmailResult{Success: true, Valid: true, RequestID: "r-email"}
	}
	return res, nil
}

func (l *fakeLooker) requests() []ipqs.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ipqs.Request(nil), l.reqs...)
}

type fakeAccount struct{}

func (fakeAccount) Account(context.Context) (*ipqs.Account, error) {
	return &ipqs.Account{Success: true, Credits: ipqs.Int{Value: 4999762, Valid: true}, RequestID: "r-acct"}, nil
}

// reply is one message a fakeReplier received.
type reply struct {
	responseURL string
	channel     string
	threadTS    string
	// requester is the user who gets an ephemeral message when the post fails.
	requester string
	msg       formatter.Message
}

func (r reply) json(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(r.msg.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	return r.msg.Text + "\n" + string(b)
}

type fakeReplier struct {
	mu      sync.Mutex
	replies []reply
}

func (f *fakeReplier) Respond(_ context.Context, responseURL string, msg formatter.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, reply{responseURL: responseURL, msg: msg})
	return nil
}

func (f *fakeReplier) PostThread(_ context.Context, channel, threadTS, requester string, msg formatter.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies = append(f.replies, reply{channel: channel, threadTS: threadTS, requester: requester, msg: msg})
	return nil
}

func (f *fakeReplier) all() []reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]reply(nil), f.replies...)
}

type fixture struct {
	h      *Handler
	lookup *fakeLooker
	reply  *fakeReplier
}

func newFixture(kinds ...indicator.Kind) fixture {
	if len(kinds) == 0 {
		kinds = []indicator.Kind{indicator.KindURL, indicator.KindDomain}
	}
	f := fixture{lookup: &fakeLooker{}, reply: &fakeReplier{}}
	f.h = New(Config{
		Lookup:          f.lookup,
		Account:         fakeAccount{},
		Reply:           f.reply,
		Dedupe:          dedupe.NewMemory(time.Minute),
		AutoEnrichKinds: kinds,
		BotUserID:       "UBOT",
		BotID:           "BBOT",
	})
	return f
}

func command(text string) Command {
	return Command{EnvelopeID: "E1", TeamID: "T1", ChannelID: "C1", UserID: "U1", Text: text, ResponseURL: "http://127.0.0.1/response/1"}
}

func TestCommandAnswersEveryForm(t *testing.T) {
	tests := []struct {
		name        string
		text        string
		wantLookups int
		wantInReply string
	}{
		{"empty", "", 0, "/ipqs status"},
		{"help", "help", 0, "/ipqs status"},
		{"garbage", "what is this even", 0, "No IP address, URL, domain or email address"},
		{"private ip", "10.1.2.3", 0, "10.1.2"},
		{"one ip", "185.220.101.4", 1, "185.220.101"},
		{"several", "185.220.101.4 hxxps://login-example[.]com/x user@example.com", 3, "login-example"},
		{"explicit with params", `ip 185.220.101.4 strictness=1 user_agent="Mozilla/5.0 (X11)"`, 1, "185.220.101"},
		{"unknown param", "ip 185.220.101.4 bogus=1", 0, "unknown parameter"},
		{"out of range", "url hxxps://evil[.]com strictness=3", 0, "strictness"},
		{"status", "status", 0, "4,999,762"},
		{"long", strings.Repeat("lorem ipsum ", 420), 0, "No IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			f.h.Command(context.Background(), command(tt.text))

			replies := f.reply.all()
			if len(replies) != 1 {
				t.Fatalf("replies = %d, want 1", len(replies))
			}
			if replies[0].responseURL == "" {
				t.Error("reply did not go to the response_url")
			}
			if got := len(f.lookup.requests()); got != tt.wantLookups {
				t.Errorf("lookups = %d, want %d", got, tt.wantLookups)
			}
			if body := replies[0].json(t); !strings.Contains(body, tt.wantInReply) {
				t.Errorf("reply does not contain %q:\n%s", tt.wantInReply, body)
			}
		})
	}
}

func TestCommandExplicitParams(t *testing.T) {
	f := newFixture()
	f.h.Command(context.Background(), command(`email User@Example.COM timeout=20 suggest_domain=true`))

	reqs := f.lookup.requests()
	if len(reqs) != 1 {
		t.Fatalf("lookups = %d, want 1", len(reqs))
	}
	if reqs[0].Kind != ipqs.KindEmail || reqs[0].Params["timeout"] != "20" || reqs[0].Params["suggest_domain"] != "true" {
		t.Errorf("request = %+v, want an email lookup with timeout=20 and suggest_domain=true", reqs[0])
	}
}

func TestCommandLimitsLookups(t *testing.T) {
	f := newFixture()
	var ips []string
	for i := range 60 {
		ips = append(ips, "45.83.64."+strconv.Itoa(i+1))
	}
	f.h.Command(context.Background(), command(strings.Join(ips, " ")))

	if got := len(f.lookup.requests()); got != DefaultMaxIndicatorsRequest {
		t.Errorf("lookups = %d, want the limit %d", got, DefaultMaxIndicatorsRequest)
	}
}

func event(typ, text string) Event {
	return Event{EnvelopeID: "E1", EventID: "Ev-" + typ + "-" + text, Type: typ, TeamID: "T1",
		Channel: "C1", ChannelType: "channel", User: "U1", Text: text, TS: "1700000000.000100"}
}

func TestEventMentionPairAnsweredOnce(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	text := "<@UBOT> what about 45.83.64.1 and bad[.]example[.]net/login?"

	mention := event("app_mention", text)
	mention.EventID = "Ev1"
	message := event("message", text)
	message.EventID = "Ev2"
	f.h.Event(ctx, mention)
	f.h.Event(ctx, message)

	replies := f.reply.all()
	if len(replies) != 1 {
		t.Fatalf("replies = %d, want 1", len(replies))
	}
	if replies[0].channel != "C1" || replies[0].threadTS != mention.TS {
		t.Errorf("reply went to %s/%s, want the thread of C1/%s", replies[0].channel, replies[0].threadTS, mention.TS)
	}
	if got := len(f.lookup.requests()); got != 2 {
		t.Errorf("lookups = %d, want 2 (the IP and the URL)", got)
	}
}

func TestEventRequesterTold(t *testing.T) {
	tests := []struct {
		name          string
		ev            Event
		wantRequester string
	}{
		{"mention", event("app_mention", "<@UBOT> 45.83.64.1"), "U1"},
		{"direct message", func() Event {
			e := event("message", "45.83.64.1")
			e.Channel, e.ChannelType = "D1", "im"
			return e
		}(), "U1"},
		{"pasted link", event("message", "look at https://evil.example.net/login"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			f.h.Event(context.Background(), tt.ev)

			replies := f.reply.all()
			if len(replies) != 1 {
				t.Fatalf("replies = %d, want 1", len(replies))
			}
			if got := replies[0].requester; got != tt.wantRequester {
				t.Errorf("requester = %q, want %q: only whoever asked is told of a failed post", got, tt.wantRequester)
			}
		})
	}
}

func TestEventBusyAnsweredOnce(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	text := "<@UBOT> 45.83.64.1"

	mention := event("app_mention", text)
	mention.EventID = "Ev1"
	message := event("message", text)
	message.EventID = "Ev2"
	f.h.EventBusy(ctx, mention)
	f.h.EventBusy(ctx, message)
	f.h.EventBusy(ctx, mention) // a retry of the first

	replies := f.reply.all()
	if len(replies) != 1 {
		t.Fatalf("busy replies = %d, want 1", len(replies))
	}
	if replies[0].requester != "U1" {
		t.Errorf("requester = %q, want U1", replies[0].requester)
	}
	// The message was answered, so a later delivery is not run.
	f.h.Event(ctx, message)
	if got := len(f.reply.all()); got != 1 {
		t.Errorf("replies after a redelivery = %d, want 1", got)
	}
}

func TestEventRetryAnsweredOnce(t *testing.T) {
	f := newFixture()
	ev := event("message", "see https://evil.example.net/login")
	f.h.Event(context.Background(), ev)
	ev.EnvelopeID = "E2"
	f.h.Event(context.Background(), ev)

	if got := len(f.reply.all()); got != 1 {
		t.Errorf("replies = %d, want 1", got)
	}
}

func TestEventIgnored(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Event)
	}{
		{"own message by user", func(e *Event) { e.User = "UBOT" }},
		{"own message by bot id", func(e *Event) { e.BotID = "BBOT" }},
		{"other bot", func(e *Event) { e.BotID = "BOTHER"; e.Subtype = "bot_message" }},
		{"edit", func(e *Event) { e.Subtype = "message_changed" }},
		{"delete", func(e *Event) { e.Subtype = "message_deleted" }},
		{"join", func(e *Event) { e.Subtype = "channel_join" }},
		{"topic", func(e *Event) { e.Subtype = "channel_topic" }},
		{"hidden", func(e *Event) { e.Hidden = true }},
		{"edited flag", func(e *Event) { e.Edited = true }},
		{"reaction", func(e *Event) { e.Type = "reaction_added" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			ev := event("message", "<@UBOT> check https://evil.example.net/login")
			tt.change(&ev)
			f.h.Event(context.Background(), ev)

			if got := len(f.reply.all()); got != 0 {
				t.Errorf("replies = %d, want 0", got)
			}
			if got := len(f.lookup.requests()); got != 0 {
				t.Errorf("lookups = %d, want 0", got)
			}
		})
	}
}

func TestEventAutoEnrichKinds(t *testing.T) {
	tests := []struct {
		name        string
		kinds       []indicator.Kind
		text        string
		wantReplies int
	}{
		{"url by default", nil, "look at https://evil.example.net/login", 1},
		{"ip not by default", nil, "traffic from 45.83.64.1", 0},
		{"email not by default", nil, "mail from someone@evil.example.net", 0},
		{"ip when enabled", []indicator.Kind{indicator.KindIP}, "traffic from 45.83.64.1", 1},
		{"only private", []indicator.Kind{indicator.KindIP}, "host 10.0.0.5 is down", 0},
		{"plain chat", nil, "the deploy is done, thanks all", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(tt.kinds...)
			f.h.Event(context.Background(), event("message", tt.text))

			replies := f.reply.all()
			if len(replies) != tt.wantReplies {
				t.Fatalf("replies = %d, want %d", len(replies), tt.wantReplies)
			}
			if tt.wantReplies > 0 && replies[0].threadTS == "" {
				t.Error("auto-enrichment reply not in a thread")
			}
		})
	}
}

func TestEventDirectMessageIsRequest(t *testing.T) {
	f := newFixture()
	ev := event("message", "45.83.64.1")
	ev.ChannelType = "im"
	ev.Channel = "D1"
	f.h.Event(context.Background(), ev)

	if got := len(f.reply.all()); got != 1 {
		t.Fatalf("replies = %d, want 1", got)
	}
	if got := len(f.lookup.requests()); got != 1 {
		t.Errorf("lookups = %d, want 1 (IPs are looked up on request)", got)
	}
}

func TestEventMentionWithoutIndicator(t *testing.T) {
	f := newFixture()
	f.h.Event(context.Background(), event("app_mention", "<@UBOT> hello there"))

	replies := f.reply.all()
	if len(replies) != 1 {
		t.Fatalf("replies = %d, want 1", len(replies))
	}
	if body := replies[0].json(t); !strings.Contains(body, "No IP address") {
		t.Errorf("reply is not a hint:\n%s", body)
	}
}

func TestLookupFailureAnswered(t *testing.T) {
	f := newFixture()
	f.lookup.err = &ipqs.Error{Kind: ipqs.ErrServer, Op: "ip", Status: 500}
	f.h.Command(context.Background(), command("185.220.101.4"))

	replies := f.reply.all()
	if len(replies) != 1 {
		t.Fatalf("replies = %d, want 1", len(replies))
	}
	if body := replies[0].json(t); strings.Contains(body, "status 500") {
		t.Errorf("reply shows a Go error string:\n%s", body)
	}
}

func TestAutoEnrichAllFailedStaysQuiet(t *testing.T) {
	f := newFixture()
	f.lookup.err = &ipqs.Error{Kind: ipqs.ErrInvalidKey, Op: "url"}
	f.h.Event(context.Background(), event("message", "see https://evil.example.net/login"))

	if got := len(f.lookup.requests()); got != 1 {
		t.Errorf("lookups = %d, want 1", got)
	}
	if got := len(f.reply.all()); got != 0 {
		t.Errorf("replies = %d, want 0: a failure of the bot's own is not posted under pasted links", got)
	}
}
