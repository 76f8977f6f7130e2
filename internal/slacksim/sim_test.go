package slacksim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

const waitTimeout = 10 * time.Second

// client is a real slack-go Socket Mode client connected to a simulator.
type client struct {
	sm     *socketmode.Client
	api    *slack.Client
	events chan socketmode.Event
	done   chan error
}

func newSim(t *testing.T, opts slacksim.Options) *slacksim.Sim {
	t.Helper()
	sim := slacksim.New(opts)
	t.Cleanup(sim.Close)
	return sim
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// startClient runs socketmode.Client.RunContext until the test ends and
// forwards the client's events to client.events.
func startClient(t *testing.T, sim *slacksim.Sim, appToken string) *client {
	t.Helper()
	api := slack.New(sim.BotToken(), slack.OptionAppLevelToken(appToken), slack.OptionAPIURL(sim.APIURL()))
	c := &client{
		sm:     socketmode.New(api),
		api:    api,
		events: make(chan socketmode.Event, 100),
		done:   make(chan error, 1),
	}

	ctx, cancel := context.WithCancel(context.Background())
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-c.sm.Events:
				select {
				case c.events <- evt:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	go func() { c.done <- c.sm.RunContext(ctx) }()

	t.Cleanup(func() {
		cancel()
		<-forwarded
		select {
		case <-c.done:
		case <-time.After(waitTimeout):
			t.Error("RunContext did not return after cancel")
		}
	})
	return c
}

// next returns the next event of type want, skipping others.
func (c *client) next(t *testing.T, want socketmode.EventType) socketmode.Event {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case evt := <-c.events:
			if evt.Type == want {
				return evt
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", want, waitTimeout)
		}
	}
}

// expectNone fails if an event of type unwanted arrives within d.
func (c *client) expectNone(t *testing.T, unwanted socketmode.EventType, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case evt := <-c.events:
			if evt.Type == unwanted {
				t.Fatalf("unexpected %s event: envelope %s", unwanted, evt.Request.EnvelopeID)
			}
		case <-deadline:
			return
		}
	}
}

func expectEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func callbackOf(t *testing.T, evt socketmode.Event) (slackevents.EventsAPIEvent, *slackevents.EventsAPICallbackEvent) {
	t.Helper()
	eventsAPI, ok := evt.Data.(slackevents.EventsAPIEvent)
	if !ok {
		t.Fatalf("event data is %T, want slackevents.EventsAPIEvent", evt.Data)
	}
	callback, ok := eventsAPI.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok {
		t.Fatalf("events API data is %T, want *slackevents.EventsAPICallbackEvent", eventsAPI.Data)
	}
	return eventsAPI, callback
}

func TestClientConnectsAndAnswersPings(t *testing.T) {
	sim := newSim(t, slacksim.Options{PingInterval: 20 * time.Millisecond})
	ctx := testContext(t)
	c := startClient(t, sim, sim.AppToken())

	hello := c.next(t, socketmode.EventTypeHello)
	if got := hello.Request.ConnectionInfo.AppID; got != slacksim.DefaultAppID {
		t.Errorf("hello app_id = %q, want %q", got, slacksim.DefaultAppID)
	}
	if got := hello.Request.NumConnections; got != 1 {
		t.Errorf("hello num_connections = %d, want 1", got)
	}
	if got := hello.Request.DebugInfo.ApproximateConnectionTime; got <= 0 {
		t.Errorf("hello approximate_connection_time = %d, want > 0", got)
	}

	if err := sim.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sim.ConnectionsOpened(); got != 1 {
		t.Errorf("ConnectionsOpened() = %d, want 1", got)
	}
	if err := sim.WaitPongs(ctx, 2); err != nil {
		t.Fatalf("pongs: %v", err)
	}
	if sent, pongs := sim.Pings(); sent < pongs {
		t.Errorf("Pings() = %d sent, %d pongs: more pongs than pings", sent, pongs)
	}
}

func TestSlashCommandAck(t *testing.T) {
	sim := newSim(t, slacksim.Options{})
	ctx := testContext(t)
	c := startClient(t, sim, sim.AppToken())

	envelopeID := sim.SlashCommand(slacksim.SlashCommand{Text: "8.8.8.8", ChannelID: "C42"})
	evt := c.next(t, socketmode.EventTypeSlashCommand)
	cmd, ok := evt.Data.(slack.SlashCommand)
	if !ok {
		t.Fatalf("event data is %T, want slack.SlashCommand", evt.Data)
	}
	if evt.Request.EnvelopeID != envelopeID {
		t.Errorf("envelope_id = %q, want %q", evt.Request.EnvelopeID, envelopeID)
	}
	if !evt.Request.AcceptsResponsePayload {
		t.Error("accepts_response_payload = false, want true")
	}
	expectEqual(t, "command", cmd.Command, slacksim.DefaultCommand)
	expectEqual(t, "text", cmd.Text, "8.8.8.8")
	expectEqual(t, "channel_id", cmd.ChannelID, "C42")
	expectEqual(t, "user_id", cmd.UserID, slacksim.DefaultUser)
	expectEqual(t, "team_id", cmd.TeamID, sim.TeamID())
	expectEqual(t, "api_app_id", cmd.APIAppID, sim.AppID())
	if cmd.TriggerID == "" {
		t.Error("trigger_id is empty")
	}
	if !strings.HasPrefix(cmd.ResponseURL, sim.URL()+"/response/") {
		t.Errorf("response_url = %q, want one under %s/response/", cmd.ResponseURL, sim.URL())
	}

	if err := c.sm.AckCtx(ctx, envelopeID, map[string]any{"text": "working"}); err != nil {
		t.Fatal(err)
	}
	ack, err := sim.WaitAck(ctx, envelopeID)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Type != slacksim.TypeSlashCommands {
		t.Errorf("ack type = %q, want %q", ack.Type, slacksim.TypeSlashCommands)
	}
	var payload struct{ Text string }
	if err := json.Unmarshal(ack.Payload, &payload); err != nil || payload.Text != "working" {
		t.Errorf("ack payload = %s (%v), want text working", ack.Payload, err)
	}
	if ack.Latency <= 0 || ack.Late || ack.Dropped || ack.Unknown || ack.Duplicate {
		t.Errorf("ack = %+v, want a timely first ack with positive latency", ack)
	}
}

func TestMentionSendsTwoEvents(t *testing.T) {
	sim := newSim(t, slacksim.Options{})
	ctx := testContext(t)
	c := startClient(t, sim, sim.AppToken())

	ref := sim.Mention("C1", "U1", "check 8.8.8.8")
	if ref.AppMention.EventID == ref.Message.EventID {
		t.Fatalf("both events have event_id %s", ref.AppMention.EventID)
	}

	var gotMention, gotMessage bool
	for range 2 {
		evt := c.next(t, socketmode.EventTypeEventsAPI)
		eventsAPI, callback := callbackOf(t, evt)

		var channel, ts, text string
		switch inner := eventsAPI.InnerEvent.Data.(type) {
		case *slackevents.AppMentionEvent:
			gotMention = true
			channel, ts, text = inner.Channel, inner.TimeStamp, inner.Text
			if callback.EventID != ref.AppMention.EventID || evt.Request.EnvelopeID != ref.AppMention.EnvelopeID {
				t.Errorf("app_mention ids = %s, %s; want %+v", callback.EventID, evt.Request.EnvelopeID, ref.AppMention)
			}
		case *slackevents.MessageEvent:
			gotMessage = true
			channel, ts, text = inner.Channel, inner.TimeStamp, inner.Text
			if callback.EventID != ref.Message.EventID || evt.Request.EnvelopeID != ref.Message.EnvelopeID {
				t.Errorf("message ids = %s, %s; want %+v", callback.EventID, evt.Request.EnvelopeID, ref.Message)
			}
			if inner.ChannelType != "channel" {
				t.Errorf("channel_type = %q, want channel", inner.ChannelType)
			}
		default:
			t.Fatalf("inner event is %T", inner)
		}

		if channel != "C1" || ts != ref.TS {
			t.Errorf("event at %s/%s, want C1/%s", channel, ts, ref.TS)
		}
		if text != "<@UBOT> check 8.8.8.8" {
			t.Errorf("text = %q, want the mention prefixed", text)
		}
		if callback.TeamID != sim.TeamID() || callback.APIAppID != sim.AppID() || len(callback.Authorizations) != 1 {
			t.Errorf("callback team, app, authorizations = %q, %q, %d", callback.TeamID, callback.APIAppID, len(callback.Authorizations))
		}
		if err := c.sm.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
			t.Fatal(err)
		}
	}
	if !gotMention || !gotMessage {
		t.Errorf("got app_mention %v, message %v; want both", gotMention, gotMessage)
	}

	for _, id := range []string{ref.AppMention.EnvelopeID, ref.Message.EnvelopeID} {
		ack, err := sim.WaitAck(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ack.Payload != nil {
			t.Errorf("ack of %s has payload %s, want none", id, ack.Payload)
		}
	}
}

func TestMessageOptions(t *testing.T) {
	sim := newSim(t, slacksim.Options{})

	// Sent before any client connects, so they wait in the queue.
	dm := sim.Message("D1", "U1", "hello")
	edit := sim.Message("C1", "U1", "new text", slacksim.WithEdited("1700000000.000001"))
	bot := sim.Message("C1", "", "beep", slacksim.WithSubtype("bot_message"), slacksim.WithBotID("B9"), slacksim.WithThreadTS("1.2"))

	c := startClient(t, sim, sim.AppToken())
	messages := map[string]*slackevents.MessageEvent{}
	for range 3 {
		evt := c.next(t, socketmode.EventTypeEventsAPI)
		eventsAPI, callback := callbackOf(t, evt)
		inner, ok := eventsAPI.InnerEvent.Data.(*slackevents.MessageEvent)
		if !ok {
			t.Fatalf("inner event is %T, want *slackevents.MessageEvent", eventsAPI.InnerEvent.Data)
		}
		messages[callback.EventID] = inner
	}

	if got := messages[dm.EventID]; got == nil || got.ChannelType != "im" || got.Text != "hello" {
		t.Errorf("direct message = %+v, want channel_type im and text hello", got)
	}

	got := messages[edit.EventID]
	switch {
	case got == nil:
		t.Error("edited message missing")
	case got.SubType != "message_changed":
		t.Errorf("edited subtype = %q, want message_changed", got.SubType)
	case got.Message == nil || got.Message.Text != "new text" || got.Message.Edited == nil:
		t.Errorf("edited nested message = %+v, want new text with edited", got.Message)
	case got.Message.Timestamp != "1700000000.000001":
		t.Errorf("edited nested ts = %q, want the original ts", got.Message.Timestamp)
	}

	got = messages[bot.EventID]
	if got == nil || got.SubType != "bot_message" || got.BotID != "B9" || got.ThreadTimeStamp != "1.2" || got.User != slacksim.DefaultUser {
		t.Errorf("bot message = %+v, want subtype bot_message, bot_id B9, thread_ts 1.2", got)
	}
}

func TestWebAPIRecordsPosts(t *testing.T) {
	sim := newSim(t, slacksim.Options{})
	ctx := testContext(t)
	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()))

	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	expectEqual(t, "auth.test user_id", auth.UserID, "UBOT")
	expectEqual(t, "auth.test bot_id", auth.BotID, "BBOT")
	expectEqual(t, "auth.test team_id", auth.TeamID, "T1")
	expectEqual(t, "auth.test user", auth.User, "ipqs")
	expectEqual(t, "auth.test team", auth.Team, "Test")

	section := slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*8.8.8.8* is clean", false, false), nil, nil)
	channel, ts, err := api.PostMessageContext(ctx, "C1",
		slack.MsgOptionText("8.8.8.8 is clean", false),
		slack.MsgOptionBlocks(section),
		slack.MsgOptionTS("1700000000.000100"),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	)
	if err != nil {
		t.Fatal(err)
	}
	if channel != "C1" || ts == "" {
		t.Errorf("chat.postMessage returned channel %q, ts %q", channel, ts)
	}
	ephemeralTS, err := api.PostEphemeralContext(ctx, "C1", "U1", slack.MsgOptionText("only you", false))
	if err != nil {
		t.Fatal(err)
	}

	posts, err := sim.WaitPosts(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	first, second := posts[0], posts[1]
	expectEqual(t, "first post method", first.Method, slacksim.MethodPostMessage)
	expectEqual(t, "first post channel", first.Channel, "C1")
	expectEqual(t, "first post thread_ts", first.ThreadTS, "1700000000.000100")
	expectEqual(t, "first post ts", first.TS, ts)
	if first.UnfurlLinks == nil || *first.UnfurlLinks || first.UnfurlMedia == nil || *first.UnfurlMedia {
		t.Errorf("first post unfurl_links %v, unfurl_media %v; want both false", first.UnfurlLinks, first.UnfurlMedia)
	}
	var blocks []struct {
		Type string
		Text struct{ Type, Text string }
	}
	if err := json.Unmarshal(first.Blocks, &blocks); err != nil {
		t.Fatalf("blocks %s: %v", first.Blocks, err)
	}
	if len(blocks) != 1 || blocks[0].Type != "section" || blocks[0].Text.Text != "*8.8.8.8* is clean" {
		t.Errorf("blocks = %+v", blocks)
	}

	expectEqual(t, "second post method", second.Method, slacksim.MethodPostEphemeral)
	expectEqual(t, "second post user", second.User, "U1")
	expectEqual(t, "second post text", second.Text, "only you")
	expectEqual(t, "second post ts", second.TS, ephemeralTS)
	if second.UnfurlLinks != nil || second.Blocks != nil {
		t.Errorf("second post unfurl_links %v, blocks %s; want both absent", second.UnfurlLinks, second.Blocks)
	}
	firstTS, _ := strconv.ParseFloat(first.TS, 64)
	secondTS, _ := strconv.ParseFloat(second.TS, 64)
	if secondTS <= firstTS {
		t.Errorf("ts %s then %s, want increasing", first.TS, second.TS)
	}
}

func TestWebAPIErrors(t *testing.T) {
	sim := newSim(t, slacksim.Options{})
	ctx := testContext(t)
	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()))

	wrongToken := slack.New("xoxb-wrong", slack.OptionAPIURL(sim.APIURL()))
	if _, err := wrongToken.AuthTestContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("auth.test with wrong token: err = %v, want invalid_auth", err)
	}
	appAsBot := slack.New(sim.AppToken(), slack.OptionAPIURL(sim.APIURL()))
	if _, _, err := appAsBot.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false)); err == nil || err.Error() != "not_allowed_token_type" {
		t.Errorf("chat.postMessage with app token: err = %v, want not_allowed_token_type", err)
	}
	if _, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"}); err == nil || err.Error() != "unknown_method" {
		t.Errorf("conversations.info: err = %v, want unknown_method", err)
	}

	sim.Set429(slacksim.MethodPostMessage, 1, 1500*time.Millisecond)
	_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false))
	var rateLimited *slack.RateLimitedError
	if !errors.As(err, &rateLimited) || rateLimited.RetryAfter != 2*time.Second {
		t.Errorf("rate-limited post: err = %v, want RateLimitedError with RetryAfter 2s", err)
	}
	sim.FailNext(slacksim.MethodPostMessage, "not_in_channel", 1)
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false)); err == nil || err.Error() != "not_in_channel" {
		t.Errorf("failing post: err = %v, want not_in_channel", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("x", false)); err != nil {
		t.Errorf("post after the failures: %v", err)
	}
	if got := sim.Calls(slacksim.MethodPostMessage); got != 4 {
		t.Errorf("Calls(chat.postMessage) = %d, want 4", got)
	}
	if got := len(sim.Posts()); got != 1 {
		t.Errorf("recorded %d posts, want 1", got)
	}
}

func TestWebAPIFormAndBearerTokens(t *testing.T) {
	sim := newSim(t, slacksim.Options{})

	call := func(t *testing.T, req *http.Request) string {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(body))
	}

	form := url.Values{"token": {sim.BotToken()}, "channel": {"C1"}, "blocks": {"not json"}}
	req, _ := http.NewRequest(http.MethodPost, sim.APIURL()+"chat.postMessage", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if got := call(t, req); !strings.Contains(got, `"invalid_blocks_format"`) {
		t.Errorf("post with malformed blocks = %s, want invalid_blocks_format", got)
	}

	req, _ = http.NewRequest(http.MethodPost, sim.APIURL()+"chat.postMessage", strings.NewReader(`{"channel":"C1","blocks":[{"type":"divider"}]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+sim.BotToken())
	if got := call(t, req); !strings.Contains(got, `"ok":true`) {
		t.Errorf("JSON post with bearer token = %s, want ok", got)
	}
	posts := sim.Posts()
	if len(posts) != 1 || string(posts[0].Blocks) != `[{"type":"divider"}]` {
		t.Errorf("posts = %+v, want one with a divider block", posts)
	}

	req, _ = http.NewRequest(http.MethodPost, sim.APIURL()+"auth.test", nil)
	if got := call(t, req); !strings.Contains(got, `"not_authed"`) {
		t.Errorf("auth.test without token = %s, want not_authed", got)
	}
}

func TestResponseURLPosts(t *testing.T) {
	sim := newSim(t, slacksim.Options{})
	ctx := testContext(t)
	c := startClient(t, sim, sim.AppToken())

	envelopeID := sim.SlashCommand(slacksim.SlashCommand{Text: "example.com", ChannelID: "C7", UserID: "U7"})
	evt := c.next(t, socketmode.EventTypeSlashCommand)
	cmd := evt.Data.(slack.SlashCommand)
	if err := c.sm.AckCtx(ctx, envelopeID, nil); err != nil {
		t.Fatal(err)
	}

	reply := func() error {
		_, _, err := c.api.PostMessageContext(ctx, "",
			slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeInChannel),
			slack.MsgOptionText("example.com is clean", false),
			slack.MsgOptionBlocks(slack.NewDividerBlock()),
		)
		return err
	}
	for i := range slacksim.ResponseURLMaxPosts {
		if err := reply(); err != nil {
			t.Fatalf("post %d to response_url: %v", i+1, err)
		}
	}
	if err := reply(); err == nil {
		t.Errorf("post %d to response_url succeeded, want an error", slacksim.ResponseURLMaxPosts+1)
	}

	posts := sim.Posts()
	if len(posts) != slacksim.ResponseURLMaxPosts {
		t.Fatalf("recorded %d posts, want %d", len(posts), slacksim.ResponseURLMaxPosts)
	}
	got := posts[0]
	expectEqual(t, "post method", got.Method, slacksim.MethodResponseURL)
	expectEqual(t, "post envelope", got.EnvelopeID, envelopeID)
	expectEqual(t, "post response_url", got.ResponseURL, cmd.ResponseURL)
	expectEqual(t, "post channel", got.Channel, "C7")
	expectEqual(t, "post user", got.User, "U7")
	expectEqual(t, "post response_type", got.ResponseType, "in_channel")
	expectEqual(t, "post text", got.Text, "example.com is clean")
	if string(got.Blocks) != `[{"type":"divider"}]` {
		t.Errorf("blocks = %s, want one divider", got.Blocks)
	}
}

func TestRedeliveryStopsAfterMax(t *testing.T) {
	const ackTimeout = 200 * time.Millisecond
	sim := newSim(t, slacksim.Options{AckTimeout: ackTimeout, MaxRedeliveries: 2})
	ctx := testContext(t)
	c := startClient(t, sim, sim.AppToken())

	ref := sim.Message("C1", "U1", "8.8.8.8")
	seen := map[string]bool{}
	var firstEnvelope string
	for attempt := range 3 {
		evt := c.next(t, socketmode.EventTypeEventsAPI)
		_, callback := callbackOf(t, evt)
		if callback.EventID != ref.EventID {
			t.Errorf("delivery %d event_id = %q, want %q", attempt, callback.EventID, ref.EventID)
		}
		if evt.Request.RetryAttempt != attempt {
			t.Errorf("delivery %d retry_attempt = %d", attempt, evt.Request.RetryAttempt)
		}
		wantReason := ""
		if attempt > 0 {
			wantReason = "timeout"
		}
		if evt.Request.RetryReason != wantReason {
			t.Errorf("delivery %d retry_reason = %q, want %q", attempt, evt.Request.RetryReason, wantReason)
		}
		if seen[evt.Request.EnvelopeID] {
			t.Errorf("delivery %d reuses envelope %s", attempt, evt.Request.EnvelopeID)
		}
		seen[evt.Request.EnvelopeID] = true
		if attempt == 0 {
			firstEnvelope = evt.Request.EnvelopeID
		}
	}
	c.expectNone(t, socketmode.EventTypeEventsAPI, 3*ackTimeout)

	if err := c.sm.AckCtx(ctx, firstEnvelope, nil); err != nil {
		t.Fatal(err)
	}
	ack, err := sim.WaitAck(ctx, firstEnvelope)
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Late || ack.Latency < 2*ackTimeout {
		t.Errorf("late ack = %+v, want Late and latency of at least %s", ack, 2*ackTimeout)
	}
}

func TestAckedEventIsNotRedelivered(t *testing.T) {
	const ackTimeout = 200 * time.Millisecond
	sim := newSim(t, slacksim.Options{AckTimeout: ackTimeout, MaxRedeliveries: 3})
	ctx := testContext(t)
	c := startClient(t, sim, sim.AppToken())

	ref := sim.Message("C1", "U1", "8.8.8.8")
	evt := c.next(t, socketmode.EventTypeEventsAPI)
	if err := c.sm.AckCtx(ctx, evt.Request.EnvelopeID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := sim.WaitAck(ctx, ref.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	c.expectNone(t, socketmode.EventTypeEventsAPI, 3*ackTimeout)

	retryID, err := sim.Retry(ref.EventID)
	if err != nil {
		t.Fatal(err)
	}
	evt = c.next(t, socketmode.EventTypeEventsAPI)
	_, callback := callbackOf(t, evt)
	if evt.Request.EnvelopeID != retryID || evt.Request.RetryAttempt != 1 || callback.EventID != ref.EventID {
		t.Errorf("retry envelope %s attempt %d event %s; want %s, 1, %s",
			evt.Request.EnvelopeID, evt.Request.RetryAttempt, callback.EventID, retryID, ref.EventID)
	}
	if _, err := sim.Retry("EvUNKNOWN"); err == nil {
		t.Error("Retry of an unknown event succeeded")
	}
}

func TestDisconnectAndDropReconnect(t *testing.T) {
	sim := newSim(t, slacksim.Options{})
	ctx := testContext(t)
	c := startClient(t, sim, sim.AppToken())

	if err := sim.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	sim.Disconnect(slacksim.ReasonRefreshRequested)
	if err := sim.WaitConnections(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := sim.ConnectionsOpened(); got != 2 {
		t.Errorf("ConnectionsOpened() after disconnect = %d, want 2", got)
	}

	ref := sim.Message("C1", "U1", "after reconnect")
	evt := c.next(t, socketmode.EventTypeEventsAPI)
	if evt.Request.EnvelopeID != ref.EnvelopeID {
		t.Errorf("envelope %s, want %s", evt.Request.EnvelopeID, ref.EnvelopeID)
	}
	envelopes, err := sim.WaitEnvelopes(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := envelopes[0].Connection; got != 2 {
		t.Errorf("envelope written on connection %d, want 2", got)
	}

	sim.DropConnection()
	if err := sim.WaitConnections(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if got := sim.ConnectionsOpened(); got != 3 {
		t.Errorf("ConnectionsOpened() after drop = %d, want 3", got)
	}
}

func TestInvalidAppTokenStopsClient(t *testing.T) {
	sim := newSim(t, slacksim.Options{})
	c := startClient(t, sim, "xapp-1-wrong")

	select {
	case err := <-c.done:
		if err == nil || err.Error() != "invalid_auth" {
			t.Errorf("RunContext error = %v, want invalid_auth", err)
		}
		c.done <- err // for the cleanup of startClient
	case <-time.After(waitTimeout):
		t.Fatal("RunContext did not return")
	}
	if got := sim.ConnectionsOpened(); got != 0 {
		t.Errorf("ConnectionsOpened() = %d, want 0", got)
	}
	if got := sim.Calls("apps.connections.open"); got != 1 {
		t.Errorf("Calls(apps.connections.open) = %d, want 1", got)
	}
}

func TestRawAndInteractiveEnvelopes(t *testing.T) {
	sim := newSim(t, slacksim.Options{})
	ctx := testContext(t)
	c := startClient(t, sim, sim.AppToken())

	sim.Raw(`{"type":"mystery","envelope_id":"raw-1"}`)
	c.next(t, socketmode.EventTypeErrorBadMessage)

	envelopeID := sim.Interactive(map[string]any{
		"user":    map[string]any{"id": "U1"},
		"channel": map[string]any{"id": "C1"},
		"actions": []map[string]any{{"type": "button", "action_id": "recheck", "block_id": "b1", "value": "8.8.8.8"}},
	})
	evt := c.next(t, socketmode.EventTypeInteractive)
	callback, ok := evt.Data.(slack.InteractionCallback)
	if !ok {
		t.Fatalf("event data is %T, want slack.InteractionCallback", evt.Data)
	}
	if callback.Type != slack.InteractionTypeBlockActions || len(callback.ActionCallback.BlockActions) != 1 || callback.ActionCallback.BlockActions[0].ActionID != "recheck" {
		t.Errorf("interaction = %s with actions %+v", callback.Type, callback.ActionCallback.BlockActions)
	}
	if evt.Request.EnvelopeID != envelopeID {
		t.Errorf("envelope %s, want %s", evt.Request.EnvelopeID, envelopeID)
	}

	if err := c.sm.AckCtx(ctx, "no-such-envelope", nil); err != nil {
		t.Fatal(err)
	}
	ack, err := sim.WaitAck(ctx, "no-such-envelope")
	if err != nil {
		t.Fatal(err)
	}
	if !ack.Unknown {
		t.Errorf("ack of an unknown envelope = %+v, want Unknown", ack)
	}
}

func TestCloseStopsGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()

	sim := slacksim.New(slacksim.Options{PingInterval: 10 * time.Millisecond, MaxRedeliveries: 1})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()

	ws, _, err := websocketDial(ctx, sim)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	sim.Message("C1", "U1", "never acked")
	sim.Close()
	sim.Close()
	_ = ws.Close()

	if err := sim.WaitConnected(ctx); err == nil {
		t.Error("WaitConnected after Close returned no error")
	}

	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > before {
		// Keep-alive connections of the Web API client are the client's
		// goroutines, not the simulator's.
		http.DefaultClient.CloseIdleConnections()
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// websocketDial opens a Socket Mode connection without slack-go's managed
// client, so that no client goroutine outlives the test.
func websocketDial(ctx context.Context, sim *slacksim.Sim) (*websocket.Conn, *http.Response, error) {
	api := slack.New(sim.BotToken(), slack.OptionAppLevelToken(sim.AppToken()), slack.OptionAPIURL(sim.APIURL()))
	_, wsURL, err := api.StartSocketModeContext(ctx)
	if err != nil {
		return nil, nil, err
	}
	dialer := websocket.Dialer{}
	return dialer.DialContext(ctx, wsURL, nil)
}

func TestButtonClickResponseURL(t *testing.T) {
	sim := newSim(t, slacksim.Options{})
	ctx := testContext(t)
	c := startClient(t, sim, sim.AppToken())

	envelopeID := sim.ButtonClick("C3", "U3", "recheck", "8.8.8.8")
	evt := c.next(t, socketmode.EventTypeInteractive)
	callback := evt.Data.(slack.InteractionCallback)
	actions := callback.ActionCallback.BlockActions
	if len(actions) != 1 || actions[0].ActionID != "recheck" || actions[0].Value != "8.8.8.8" {
		t.Fatalf("actions = %+v, want one recheck button with value 8.8.8.8", actions)
	}
	if callback.Channel.ID != "C3" || callback.User.ID != "U3" || callback.Container.MessageTs == "" {
		t.Errorf("channel %q, user %q, message_ts %q", callback.Channel.ID, callback.User.ID, callback.Container.MessageTs)
	}
	if err := c.sm.AckCtx(ctx, envelopeID, nil); err != nil {
		t.Fatal(err)
	}

	_, _, err := c.api.PostMessageContext(ctx, "",
		slack.MsgOptionReplaceOriginal(callback.ResponseURL),
		slack.MsgOptionText("rechecked", false),
	)
	if err != nil {
		t.Fatal(err)
	}
	posts, err := sim.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := posts[0]; got.EnvelopeID != envelopeID || !got.ReplaceOriginal || got.Channel != "C3" || got.Text != "rechecked" {
		t.Errorf("post = %+v, want replace_original for envelope %s", got, envelopeID)
	}
}

func TestUsergroupMembers(t *testing.T) {
	sim := slacksim.New(slacksim.Options{})
	defer sim.Close()
	sim.SetUsergroup("S0RESPOND", "U1", "U2")
	api := slack.New(sim.BotToken(), slack.OptionAPIURL(sim.APIURL()))
	ctx := context.Background()

	members, err := api.GetUserGroupMembersContext(ctx, "S0RESPOND")
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 || members[0] != "U1" || members[1] != "U2" {
		t.Errorf("members = %v, want [U1 U2]", members)
	}
	if _, err := api.GetUserGroupMembersContext(ctx, "S0MISSING"); err == nil || !strings.Contains(err.Error(), "no_such_subteam") {
		t.Errorf("unknown group: err = %v, want no_such_subteam", err)
	}
}
