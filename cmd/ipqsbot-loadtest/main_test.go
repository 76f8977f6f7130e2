package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

func TestRunShortLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot for a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var stdout, stderr bytes.Buffer
	args := []string{"-rate", "50", "-duration", "2s", "-channels", "10", "-distinct", "20", "-ipqs-latency", "50ms", "-json"}
	code := run(ctx, args, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("run returned %d, want %d; stderr:\n%s\nstdout:\n%s", code, exitOK, stderr.String(), stdout.String())
	}

	var r report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("decode report: %v\n%s", err, stdout.String())
	}
	if r.Sent != 100 {
		t.Errorf("sent %d events, want 100", r.Sent)
	}
	if r.Mentions != 5 || r.Commands != 5 || r.Pasted != 90 {
		t.Errorf("sent %d mentions, %d slash commands and %d pasted messages, want 5, 5 and 90 at the default 10%% requests", r.Mentions, r.Commands, r.Pasted)
	}
	if r.EnvelopesSent != 105 {
		t.Errorf("envelopes sent = %d, want 105: one per event and a second per mention", r.EnvelopesSent)
	}
	if r.EnvelopesAcked != r.EnvelopesSent {
		t.Errorf("acked %d of %d envelopes", r.EnvelopesAcked, r.EnvelopesSent)
	}
	if r.Answered != r.Sent {
		t.Errorf("answered %d of %d events", r.Answered, r.Sent)
	}
	if r.DistinctSeen < 1 || r.DistinctSeen > 20 {
		t.Errorf("distinct indicators seen = %d, want 1 to 20", r.DistinctSeen)
	}
	if r.CallsPerIndicator != 1 {
		t.Errorf("IPQS calls per distinct indicator = %.2f (%d calls), want 1.00", r.CallsPerIndicator, r.IPQSCalls)
	}
	if got := r.ReplyMiss.Count + r.ReplyInFlight.Count + r.ReplyHit.Count; got != r.Answered {
		t.Errorf("reply classes add up to %d, want %d answered", got, r.Answered)
	}
	if r.ReplyMiss.Count != r.DistinctSeen {
		t.Errorf("first-lookup replies = %d, want one per distinct indicator (%d)", r.ReplyMiss.Count, r.DistinctSeen)
	}
	if r.ReplyHit.Count == 0 {
		t.Error("no cache-hit replies; 100 events over 20 indicators must repeat some")
	}
	if r.ReplyMiss.P50 < 50 {
		t.Errorf("first-lookup reply p50 = %.2f ms, want at least the IPQS latency of 50 ms", r.ReplyMiss.P50)
	}
	if r.PeakRSSBytes <= 0 && r.PeakRSSError == "" {
		t.Errorf("peak RSS = %d with no error", r.PeakRSSBytes)
	}
	if r.BotExitCode != 0 {
		t.Errorf("bot exit code after SIGTERM = %d (%s), want 0", r.BotExitCode, r.BotStopError)
	}
}

func TestRunShortLoadWithFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot for a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var stdout, stderr bytes.Buffer
	// 50 channels keep the replies that Slack rate-limits few per channel,
	// so that the bot's one post per second in such a channel ends soon.
	args := []string{"-rate", "50", "-duration", "2s", "-channels", "50", "-distinct", "20", "-requests", "30",
		"-ipqs-fault", "503", "-slack-429", "10", "-json"}
	code := run(ctx, args, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("run returned %d, want %d; stderr:\n%s\nstdout:\n%s", code, exitOK, stderr.String(), stdout.String())
	}

	var r report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("decode report: %v\n%s", err, stdout.String())
	}
	if r.IPQSFault != "503" || r.Slack429 != 10 {
		t.Errorf("report faults = %q and %d 429s, want 503 and 10", r.IPQSFault, r.Slack429)
	}
	if r.Requests != 30 {
		t.Errorf("requests = %d, want 30 at 30%% of 100 events", r.Requests)
	}
	if r.EnvelopesAcked != r.EnvelopesSent || r.EnvelopesLate != 0 {
		t.Errorf("acked %d of %d envelopes, %d late", r.EnvelopesAcked, r.EnvelopesSent, r.EnvelopesLate)
	}
	if r.RequestsAnswered != r.Requests {
		t.Errorf("answered %d of %d requests", r.RequestsAnswered, r.Requests)
	}
	if r.PostMessageRejected != 10 {
		t.Errorf("chat.postMessage calls rejected = %d, want the 10 answered with HTTP 429", r.PostMessageRejected)
	}
	if r.IPQSCalls == 0 {
		t.Error("IPQS calls = 0: the fault was never met")
	}
	if r.BotExitCode != 0 {
		t.Errorf("bot exit code after SIGTERM = %d (%s), want 0", r.BotExitCode, r.BotStopError)
	}
}

func TestParseFlagsRejects(t *testing.T) {
	tests := [][]string{
		{"-rate", "0"},
		{"-rate", "5001"},
		{"-duration", "0s"},
		{"-duration", "3m"},
		{"-channels", "0"},
		{"-distinct", "0"},
		{"-ipqs-latency", "-1ms"},
		{"-requests", "-1"},
		{"-requests", "101"},
		{"-ipqs-fault", "200"},
		{"-ipqs-fault", "600"},
		{"-ipqs-fault", "slow"},
		{"-slack-429", "-1"},
		{"-workers", "-1"},
		{"-workers", "1025"},
		{"extra"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(context.Background(), args, &bytes.Buffer{}, &stderr); code != exitUsage {
				t.Errorf("run(%q) = %d, want %d", args, code, exitUsage)
			}
			if stderr.Len() == 0 {
				t.Error("no message on stderr")
			}
		})
	}
}

func TestParseFlagsDefaults(t *testing.T) {
	opts, err := parseFlags(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	want := options{rate: 500, duration: 10 * time.Second, channels: 100, distinct: 200, requests: 10, ipqsLatency: 200 * time.Millisecond}
	if opts != want {
		t.Errorf("defaults = %+v, want %+v", opts, want)
	}
}

func TestParseFlagsFaults(t *testing.T) {
	tests := []struct {
		args       []string
		wantFault  string
		wantStatus int
		want429    int
	}{
		{[]string{"-ipqs-fault", "503"}, "503", 503, 0},
		{[]string{"-ipqs-fault", "timeout"}, "timeout", 0, 0},
		{[]string{"-slack-429", "25"}, "", 0, 25},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			opts, err := parseFlags(tt.args, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("parseFlags: %v", err)
			}
			if opts.ipqsFault != tt.wantFault || opts.ipqsStatus != tt.wantStatus || opts.slack429 != tt.want429 {
				t.Errorf("fault %q, status %d, 429s %d; want %q, %d, %d",
					opts.ipqsFault, opts.ipqsStatus, opts.slack429, tt.wantFault, tt.wantStatus, tt.want429)
			}
		})
	}
}

func TestParseFlagsWorkers(t *testing.T) {
	opts, err := parseFlags([]string{"-workers", "64"}, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	if opts.workers != 64 {
		t.Errorf("workers = %d, want 64", opts.workers)
	}
}

func TestIsRequestSlotSpread(t *testing.T) {
	for _, percent := range []int{0, 1, 10, 30, 33, 50, 99, 100} {
		count, gap := 0, 0
		last := -1
		for i := range 1000 {
			if !isRequestSlot(i, percent) {
				continue
			}
			count++
			if last >= 0 {
				gap = max(gap, i-last)
			}
			last = i
		}
		if want := percent * 10; count != want {
			t.Errorf("%d%%: %d requests in 1000 events, want %d", percent, count, want)
		}
		if percent > 0 && gap > 100/percent+1 {
			t.Errorf("%d%%: requests up to %d events apart, want them spread evenly", percent, gap)
		}
	}
}

func TestBuildReportClassifiesReplies(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	event := func(n int, kind eventKind, indicator string, sentMS int) sentEvent {
		ts := "1.00000" + string(rune('0'+n))
		ev := sentEvent{kind: kind, ref: slacksim.EventRef{EnvelopeID: "env" + ts, Channel: "C1", TS: ts}, indicator: indicator, sentAt: at(sentMS)}
		if kind != kindPasted {
			ev.user = fmt.Sprintf("U%d", n)
		}
		return ev
	}
	events := []sentEvent{
		event(1, kindPasted, "a", 0),    // first of a: miss, answered at 200
		event(2, kindMention, "a", 50),  // before a's first reply: in flight, answered twice
		event(3, kindCommand, "a", 300), // after a's first reply: hit
		event(4, kindPasted, "b", 10),   // first of b: never answered, as ephemerals do not count for it
		event(5, kindMention, "c", 20),  // first of c: miss, answered by an ephemeral at 400; second envelope never acked
	}
	var envelopes []slacksim.Envelope
	var acks []slacksim.Ack
	for _, ev := range events {
		envelopes = append(envelopes, slacksim.Envelope{ID: ev.ref.EnvelopeID})
	}
	envelopes = append(envelopes, slacksim.Envelope{ID: "env-second-of-mention"})
	for _, ev := range events[:3] {
		acks = append(acks, slacksim.Ack{EnvelopeID: ev.ref.EnvelopeID, Latency: time.Millisecond})
	}
	acks = append(acks,
		slacksim.Ack{EnvelopeID: events[3].ref.EnvelopeID, Latency: 4 * time.Second, Late: true},
		slacksim.Ack{EnvelopeID: events[4].ref.EnvelopeID, Latency: 2 * time.Millisecond},
		slacksim.Ack{EnvelopeID: events[4].ref.EnvelopeID, Latency: 9 * time.Second, Late: true, Duplicate: true})
	posts := []slacksim.Post{
		{Method: slacksim.MethodPostMessage, Channel: "C1", ThreadTS: events[0].ref.TS, At: at(200)},
		{Method: slacksim.MethodPostMessage, Channel: "C1", ThreadTS: events[1].ref.TS, At: at(201)},
		{Method: slacksim.MethodPostMessage, Channel: "C1", ThreadTS: events[1].ref.TS, At: at(250)},
		{Method: slacksim.MethodResponseURL, Channel: "C1", EnvelopeID: events[2].ref.EnvelopeID, At: at(302)},
		{Method: slacksim.MethodPostEphemeral, Channel: "C1", ThreadTS: events[3].ref.TS, At: at(400)},
		{Method: slacksim.MethodPostEphemeral, Channel: "C1", User: "U5", At: at(400)},
	}
	seen := observed{envelopes: envelopes, acks: acks, posts: posts, ipqsCalls: 3, postMessageCalls: 5}

	r := buildReport(options{rate: 1, duration: time.Second}, events, time.Second, seen)

	if r.Pasted != 2 || r.Mentions != 2 || r.Commands != 1 || r.Requests != 3 {
		t.Errorf("pasted %d, mentions %d, commands %d, requests %d; want 2, 2, 1, 3", r.Pasted, r.Mentions, r.Commands, r.Requests)
	}
	if r.EnvelopesSent != 6 || r.EnvelopesAcked != 5 || r.EnvelopesLate != 1 {
		t.Errorf("envelopes sent %d, acked %d, late %d; want 6, 5, 1", r.EnvelopesSent, r.EnvelopesAcked, r.EnvelopesLate)
	}
	if r.RequestsAnswered != 3 || r.PastedAnswered != 1 || r.Answered != 4 || r.AnsweredTwice != 1 {
		t.Errorf("requests answered %d, pasted answered %d, answered %d, twice %d; want 3, 1, 4, 1",
			r.RequestsAnswered, r.PastedAnswered, r.Answered, r.AnsweredTwice)
	}
	if r.PostMessageCalls != 5 || r.PostMessageRejected != 2 {
		t.Errorf("chat.postMessage calls %d, rejected %d; want 5 and 2", r.PostMessageCalls, r.PostMessageRejected)
	}
	if r.complete() {
		t.Error("complete() = true with envelopes and events unanswered")
	}
	if r.ReplyMiss.Count != 2 || r.ReplyMiss.P50 != 200 || r.ReplyMiss.Max != 380 {
		t.Errorf("miss = %+v, want 2 events at 200 and 380 ms", r.ReplyMiss)
	}
	if r.ReplyInFlight.Count != 1 || r.ReplyInFlight.P50 != 151 {
		t.Errorf("in flight = %+v, want 1 event at 151 ms", r.ReplyInFlight)
	}
	if r.ReplyHit.Count != 1 || r.ReplyHit.P50 != 2 {
		t.Errorf("hit = %+v, want 1 event at 2 ms", r.ReplyHit)
	}
	if r.ReplyRequest.Count != 3 || r.ReplyRequest.Max != 380 {
		t.Errorf("request replies = %+v, want 3 requests, max 380 ms", r.ReplyRequest)
	}
	if r.Ack.Count != 5 || r.Ack.Max != 4000 {
		t.Errorf("ack latency = %+v, want the first ack of 5 envelopes, max 4000 ms", r.Ack)
	}
	if r.DistinctSeen != 3 || r.CallsPerIndicator != 1 {
		t.Errorf("distinct %d, calls per indicator %.2f, want 3 and 1.00", r.DistinctSeen, r.CallsPerIndicator)
	}
}

func TestReportFailures(t *testing.T) {
	// full is a run with nothing missing: 10 events, 2 of them requests.
	full := report{Sent: 10, Pasted: 8, Mentions: 1, Commands: 1, Requests: 2,
		EnvelopesSent: 11, EnvelopesAcked: 11, RequestsAnswered: 2, PastedAnswered: 8, Answered: 10}
	tests := []struct {
		name   string
		change func(r *report)
		want   string // "" when the run is complete
	}{
		{"complete", func(*report) {}, ""},
		{"envelope never acked", func(r *report) { r.EnvelopesAcked = 10 }, "1 of 11 envelopes were never acknowledged"},
		{"envelope acked late", func(r *report) { r.EnvelopesLate = 2 }, "2 of 11 envelopes were acknowledged after Slack's 3 s"},
		{"request unanswered", func(r *report) { r.RequestsAnswered = 1 }, "1 of 2 requests got no reply"},
		{"request unanswered during outage", func(r *report) { r.IPQSFault = "503"; r.RequestsAnswered = 0 }, "2 of 2 requests got no reply"},
		{"pasted unanswered", func(r *report) { r.PastedAnswered = 5 }, "3 of 8 pasted messages got no reply"},
		{"pasted unanswered during outage", func(r *report) { r.IPQSFault = "503"; r.PastedAnswered = 0 }, ""},
		{"pasted unanswered while IPQS hangs", func(r *report) { r.IPQSFault = faultTimeout; r.PastedAnswered = 0 }, ""},
		{"pasted unanswered while Slack rate-limits", func(r *report) { r.Slack429 = 5; r.PastedAnswered = 3 }, ""},
		{"request unanswered while Slack rate-limits", func(r *report) { r.Slack429 = 5; r.RequestsAnswered = 0 }, "2 of 2 requests got no reply"},
		{"answered twice", func(r *report) { r.AnsweredTwice = 1 }, "1 of 10 events got more than one reply"},
		{"nothing sent", func(r *report) { *r = report{} }, "no event was sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := full
			tt.change(&r)
			failures := r.failures()
			if tt.want == "" {
				if len(failures) != 0 || !r.complete() {
					t.Errorf("failures = %q, want none", failures)
				}
				return
			}
			if len(failures) != 1 || failures[0] != tt.want {
				t.Errorf("failures = %q, want [%q]", failures, tt.want)
			}
			if r.complete() {
				t.Error("complete() = true")
			}

			var text bytes.Buffer
			if err := writeText(&text, &r); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), "FAIL: "+tt.want) {
				t.Errorf("text report lacks %q:\n%s", "FAIL: "+tt.want, text.String())
			}
		})
	}
}

func TestLogMessage(t *testing.T) {
	tests := []struct{ line, want string }{
		{`time=2026-12-04T23:37:17.370Z level=ERROR msg="reply in thread failed" component=handlers err="x y"`, "reply in thread failed"},
		{`time=2026-12-04T23:37:17.370Z level=ERROR msg=stopped err=boom`, "stopped"},
		{`time=2026-12-04T23:37:17.370Z level=ERROR msg="say \"hi\"" a=b`, `say "hi"`},
		{`no message here`, ""},
	}
	for _, tt := range tests {
		if got := logMessage(tt.line); got != tt.want {
			t.Errorf("logMessage(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestCountsByMessageOrder(t *testing.T) {
	got := countsByMessage(map[string]int{"b": 2, "a": 2, "c": 5})
	if want := "5 × c; 2 × a; 2 × b"; got != want {
		t.Errorf("countsByMessage = %q, want %q", got, want)
	}
}

func TestPercentileNearestRank(t *testing.T) {
	sorted := make([]time.Duration, 100)
	for i := range sorted {
		sorted[i] = time.Duration(i+1) * time.Millisecond
	}
	if got := percentile(sorted, 50); got != 50*time.Millisecond {
		t.Errorf("p50 = %v, want 50ms", got)
	}
	if got := percentile(sorted, 99); got != 99*time.Millisecond {
		t.Errorf("p99 = %v, want 99ms", got)
	}
	if got := percentile(sorted[:1], 99); got != time.Millisecond {
		t.Errorf("p99 of one = %v, want 1ms", got)
	}
}
