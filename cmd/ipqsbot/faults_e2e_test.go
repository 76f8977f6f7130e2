package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// Size and shape of the burst that the fault tests send.
const (
	burstEvents   = 300
	burstChannels = 50
	// burst429s is how many chat.postMessage calls the simulator rejects
	// with HTTP 429. It is below the number of threaded replies the burst
	// asks for, so the bot must post after the 429s end.
	burst429s        = 50
	burstRetryAfter  = time.Second
	burstReplyWindow = 15 * time.Second
)

// burstKind is the kind of one event of a burst.
type burstKind string

const (
	kindPasted  burstKind = "pasted message"
	kindMention burstKind = "mention"
	kindCommand burstKind = "slash command"
)

// burstEvent is one event the burst sent and where its reply is expected:
// in the thread of channel and ts, or at the response_url of the slash
// command envelope. Each event has its own pair of channel and user, so an
// ephemeral message to user in channel is a reply to this event only.
type burstEvent struct {
	kind      burstKind
	text      string
	lookup    bool // the text names an indicator to look up
	envelopes []string
	channel   string
	user      string
	ts        string
}

// isRequest reports whether ev is a request to the bot, which must always
// get a reply.
func (ev burstEvent) isRequest() bool { return ev.kind != kindPasted }

// replies returns the posts that reply to ev: for a slash command, posts to
// its response_url; for a message, posts in its thread; for a mention also
// an ephemeral message to its sender in its channel, which the bot sends
// when it cannot post the reply in the thread.
func (ev burstEvent) replies(posts []slacksim.Post) []slacksim.Post {
	var found []slacksim.Post
	for _, p := range posts {
		switch {
		case ev.kind == kindCommand && p.Method == slacksim.MethodResponseURL && p.EnvelopeID == ev.envelopes[0]:
			found = append(found, p)
		case ev.kind != kindCommand && p.Method == slacksim.MethodPostMessage && p.Channel == ev.channel && p.ThreadTS == ev.ts:
			found = append(found, p)
		case ev.kind == kindMention && p.Method == slacksim.MethodPostEphemeral && p.Channel == ev.channel && p.User == ev.user:
			found = append(found, p)
		}
	}
	return found
}

// sendBurst sends burstEvents events as fast as the simulator takes them:
// pasted links, mentions and /ipqs commands in turn, spread over
// burstChannels channels and 37 users so that no pair of channel and user
// repeats. Indicators differ from event to event, so the cache answers none
// of them.
func sendBurst(sim *slacksim.Sim) []burstEvent {
	mentionTexts := []func(i int) (string, bool){
		func(i int) (string, bool) { return fmt.Sprintf("is 45.83.%d.%d bad?", 70+i/250, i%250+1), true },
		func(i int) (string, bool) {
			return fmt.Sprintf("what about hxxps://login-burst%d.example[.]com/verify", i), true
		},
		func(i int) (string, bool) { return fmt.Sprintf("anything on burst%d@example.com?", i), true },
		func(int) (string, bool) { return "hello, are you there?", false },
	}
	commandTexts := []func(i int) (string, bool){
		func(i int) (string, bool) { return fmt.Sprintf("45.83.%d.%d", 80+i/250, i%250+1), true },
		func(i int) (string, bool) { return fmt.Sprintf("email burst%d@example.org", i), true },
		func(i int) (string, bool) { return fmt.Sprintf("hxxp://suspicious-burst%d.example[.]com/a", i), true },
		func(int) (string, bool) { return "help", false },
		func(int) (string, bool) { return "", false },
		func(int) (string, bool) { return "}}{{ nothing to see", false },
	}

	events := make([]burstEvent, 0, burstEvents)
	for i := range burstEvents {
		channel := fmt.Sprintf("C0BURST%02d", i%burstChannels)
		user := fmt.Sprintf("U0BURST%03d", i%37)
		switch i % 3 {
		case 0:
			text := fmt.Sprintf("heads up: <https://login-paste%d.example.com/x|login-paste%d.example.com/x>", i, i)
			ref := sim.Message(channel, user, text)
			events = append(events, burstEvent{kind: kindPasted, text: text, lookup: true,
				envelopes: []string{ref.EnvelopeID}, channel: ref.Channel, user: user, ts: ref.TS})
		case 1:
			text, lookup := mentionTexts[(i/3)%len(mentionTexts)](i)
			ref := sim.Mention(channel, user, text)
			events = append(events, burstEvent{kind: kindMention, text: text, lookup: lookup,
				envelopes: []string{ref.AppMention.EnvelopeID, ref.Message.EnvelopeID}, channel: ref.Channel, user: user, ts: ref.TS})
		default:
			text, lookup := commandTexts[(i/3)%len(commandTexts)](i)
			id := sim.SlashCommand(slacksim.SlashCommand{Text: text, ChannelID: channel, UserID: user})
			events = append(events, burstEvent{kind: kindCommand, text: text, lookup: lookup,
				envelopes: []string{id}, channel: channel, user: user})
		}
	}
	return events
}

// assertAllAcked waits for an acknowledgement of every envelope the
// simulator created and checks that each came within Slack's 3 s and was
// not dropped.
func assertAllAcked(t *testing.T, h *harness, events []burstEvent) {
	t.Helper()

	envelopes := h.sim.Envelopes()
	want := 0
	for _, ev := range events {
		want += len(ev.envelopes)
	}
	if len(envelopes) != want {
		t.Errorf("simulator created %d envelopes, want %d for the burst", len(envelopes), want)
	}
	for _, env := range envelopes {
		if _, err := h.sim.WaitAck(h.ctx, env.ID); err != nil {
			t.Errorf("%s envelope %s never acknowledged: %v", env.Type, env.ID, err)
		}
	}

	acked := make(map[string]bool)
	for _, ack := range h.sim.Acks() {
		if ack.Unknown {
			t.Errorf("ack of unknown envelope %s", ack.EnvelopeID)
			continue
		}
		if acked[ack.EnvelopeID] {
			continue
		}
		acked[ack.EnvelopeID] = true
		if ack.Late {
			t.Errorf("%s envelope %s acknowledged after %v, later than Slack's 3 s", ack.Type, ack.EnvelopeID, ack.Latency)
		}
		if ack.Dropped {
			t.Errorf("%s envelope %s acknowledged with a %d-byte frame, which Slack drops", ack.Type, ack.EnvelopeID, ack.Size)
		}
	}
	if len(acked) != len(envelopes) {
		t.Errorf("acknowledged %d distinct envelopes, want %d", len(acked), len(envelopes))
	}
}

// assertBotRunning fails the test when run has returned.
func assertBotRunning(t *testing.T, h *harness) {
	t.Helper()
	select {
	case code := <-h.exit:
		h.exit <- code // shutdown reads the code again
		t.Fatalf("the bot exited with code %d during the burst\nlogs:\n%s", code, h.logs)
	default:
	}
	if n := h.sim.Connected(); n == 0 {
		t.Error("the bot has no Socket Mode connection open after the burst")
	}
	if n := h.sim.ConnectionsOpened(); n > 1 {
		t.Logf("the bot opened %d Socket Mode connections during the burst", n)
	}
}

// waitRequestsAnswered waits up to burstReplyWindow until every request of
// events has a reply, then a little longer for stray duplicates, and
// returns the posts.
func waitRequestsAnswered(h *harness, events []burstEvent) []slacksim.Post {
	deadline := time.Now().Add(burstReplyWindow)
	for time.Now().Before(deadline) {
		posts := h.sim.Posts()
		missing := 0
		for _, ev := range events {
			if ev.isRequest() && len(ev.replies(posts)) == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	return h.sim.Posts()
}

// assertRequestsAnsweredOnce checks that every request got exactly one
// reply with blocks, and returns the replies by event index.
func assertRequestsAnsweredOnce(t *testing.T, h *harness, events []burstEvent, posts []slacksim.Post) map[int]slacksim.Post {
	t.Helper()
	answers := make(map[int]slacksim.Post)
	unanswered, ephemeral := 0, 0
	for i, ev := range events {
		replies := ev.replies(posts)
		if len(replies) == 1 {
			answers[i] = replies[0]
			if replies[0].Method == slacksim.MethodPostEphemeral {
				ephemeral++
			}
		}
		if !ev.isRequest() {
			if len(replies) > 1 {
				t.Errorf("%s %q in %s got %d replies, want at most 1", ev.kind, ev.text, ev.channel, len(replies))
			}
			continue
		}
		switch {
		case len(replies) == 0:
			unanswered++
			t.Errorf("%s %q in %s (envelopes %v) got no reply", ev.kind, ev.text, ev.channel, ev.envelopes)
		case len(replies) > 1:
			t.Errorf("%s %q in %s got %d replies, want 1", ev.kind, ev.text, ev.channel, len(replies))
		}
		for _, p := range replies {
			if !json.Valid(p.Blocks) || len(p.Blocks) < 3 {
				t.Errorf("reply to %s %q has no blocks: %s", ev.kind, ev.text, p.Blocks)
			}
		}
	}
	if ephemeral > 0 {
		t.Logf("%d mentions were answered with an ephemeral message that the answer could not be posted", ephemeral)
	}
	if unanswered > 0 {
		t.Logf("%d requests unanswered; bot log lines about failed replies:\n%s", unanswered, grepLines(h.logs.String(), "failed", 20))
	}
	return answers
}

// assert429sServed checks that the simulator rejected burst429s
// chat.postMessage calls with HTTP 429, so the test did exercise them.
func assert429sServed(t *testing.T, h *harness, posts []slacksim.Post) {
	t.Helper()
	delivered := 0
	for _, p := range posts {
		if p.Method == slacksim.MethodPostMessage {
			delivered++
		}
	}
	if rejected := h.sim.Calls(slacksim.MethodPostMessage) - delivered; rejected < burst429s {
		t.Errorf("chat.postMessage calls rejected with HTTP 429 = %d, want %d: the burst did not meet the rate limit", rejected, burst429s)
	}
}

// grepLines returns up to max lines of text that contain sub.
func grepLines(text, sub string, max int) string {
	var lines []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, sub) {
			lines = append(lines, line)
			if len(lines) == max {
				break
			}
		}
	}
	return strings.Join(lines, "")
}

// faultSettings lift the spend limits, so that every reply in a burst is a
// lookup result, a failure card or a usage hint, never a limit card.
var faultSettings = map[string]string{
	"USER_LOOKUP_LIMIT":       "unlimited",
	"LOOKUP_LIMIT_PER_MINUTE": "0",
	"LOG_LEVEL":               "info",
}

func TestBurstDuringIPQSOutage(t *testing.T) {
	h := startBot(t, faultSettings)
	h.ipqs.SetFault(503)

	events := sendBurst(h.sim)
	assertAllAcked(t, h, events)
	posts := waitRequestsAnswered(h, events)
	assertBotRunning(t, h)
	answers := assertRequestsAnsweredOnce(t, h, events, posts)

	breakerReplies := 0
	for i, ev := range events {
		p, ok := answers[i]
		if !ok || !ev.isRequest() || !ev.lookup {
			continue
		}
		body := card(p)
		if strings.Contains(body, "lookup service is unavailable") {
			breakerReplies++
		}
		if !strings.Contains(body, "not answering") && !strings.Contains(body, "lookup service is unavailable") {
			t.Errorf("reply to %s %q during the outage does not say IPQS is failing:\n%s", ev.kind, ev.text, body)
		}
	}
	if breakerReplies == 0 {
		t.Error("no reply says the lookup service is unavailable: the breaker never opened")
	}
	t.Logf("IPQS calls during the outage: %d; replies from the open breaker: %d", h.ipqs.TotalCalls(), breakerReplies)
}

func TestBurstDuringSlackRateLimit(t *testing.T) {
	h := startBot(t, faultSettings)
	h.sim.Set429(slacksim.MethodPostMessage, burst429s, burstRetryAfter)

	events := sendBurst(h.sim)
	assertAllAcked(t, h, events)
	posts := waitRequestsAnswered(h, events)
	assertBotRunning(t, h)
	answers := assertRequestsAnsweredOnce(t, h, events, posts)
	assert429sServed(t, h, posts)

	// IPQS is up, so every pasted link is enriched too.
	for i, ev := range events {
		if ev.kind != kindPasted {
			continue
		}
		if _, ok := answers[i]; !ok {
			t.Errorf("pasted message %q in %s got %d replies, want 1", ev.text, ev.channel, len(ev.replies(posts)))
		}
	}
}

func TestBurstDuringOutageAndRateLimit(t *testing.T) {
	h := startBot(t, faultSettings)
	h.ipqs.SetFault(503)
	h.sim.Set429(slacksim.MethodPostMessage, burst429s, burstRetryAfter)

	events := sendBurst(h.sim)
	assertAllAcked(t, h, events)
	posts := waitRequestsAnswered(h, events)
	assertBotRunning(t, h)
	assertRequestsAnsweredOnce(t, h, events, posts)
}
