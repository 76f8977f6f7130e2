package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	if r.Acked != r.Sent {
		t.Errorf("acked %d of %d events", r.Acked, r.Sent)
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

func TestParseFlagsRejects(t *testing.T) {
	tests := [][]string{
		{"-rate", "0"},
		{"-rate", "5001"},
		{"-duration", "0s"},
		{"-duration", "3m"},
		{"-channels", "0"},
		{"-distinct", "0"},
		{"-ipqs-latency", "-1ms"},
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
	want := options{rate: 500, duration: 10 * time.Second, channels: 100, distinct: 200, ipqsLatency: 200 * time.Millisecond}
	if opts != want {
		t.Errorf("defaults = %+v, want %+v", opts, want)
	}
}

func TestBuildReportClassifiesReplies(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	event := func(n int, indicator string, sentMS int) sentEvent {
		ts := "1.00000" + string(rune('0'+n))
		return sentEvent{ref: slacksim.EventRef{EnvelopeID: "env" + ts, Channel: "C1", TS: ts}, indicator: indicator, sentAt: at(sentMS)}
	}
	events := []sentEvent{
		event(1, "a", 0),   // first of a: miss, answered at 200
		event(2, "a", 50),  // before a's first reply: in flight
		event(3, "a", 300), // after a's first reply: hit
		event(4, "b", 10),  // first of b: never answered
	}
	var acks []slacksim.Ack
	for _, ev := range events[:3] {
		acks = append(acks, slacksim.Ack{EnvelopeID: ev.ref.EnvelopeID, Latency: time.Millisecond})
	}
	posts := []slacksim.Post{
		{Method: slacksim.MethodPostMessage, Channel: "C1", ThreadTS: events[0].ref.TS, At: at(200)},
		{Method: slacksim.MethodPostMessage, Channel: "C1", ThreadTS: events[1].ref.TS, At: at(201)},
		{Method: slacksim.MethodPostMessage, Channel: "C1", ThreadTS: events[2].ref.TS, At: at(302)},
		{Method: slacksim.MethodPostEphemeral, Channel: "C1", ThreadTS: events[3].ref.TS, At: at(400)},
	}

	r := buildReport(options{rate: 1, duration: time.Second}, events, time.Second, acks, posts, 2)

	if r.Acked != 3 || r.Answered != 3 {
		t.Errorf("acked %d, answered %d, want 3 and 3", r.Acked, r.Answered)
	}
	if r.complete() {
		t.Error("complete() = true with one event unanswered")
	}
	if r.ReplyMiss.Count != 1 || r.ReplyMiss.P50 != 200 {
		t.Errorf("miss = %+v, want 1 event at 200 ms", r.ReplyMiss)
	}
	if r.ReplyInFlight.Count != 1 || r.ReplyInFlight.P50 != 151 {
		t.Errorf("in flight = %+v, want 1 event at 151 ms", r.ReplyInFlight)
	}
	if r.ReplyHit.Count != 1 || r.ReplyHit.P50 != 2 {
		t.Errorf("hit = %+v, want 1 event at 2 ms", r.ReplyHit)
	}
	if r.DistinctSeen != 2 || r.CallsPerIndicator != 1 {
		t.Errorf("distinct %d, calls per indicator %.2f, want 2 and 1.00", r.DistinctSeen, r.CallsPerIndicator)
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
