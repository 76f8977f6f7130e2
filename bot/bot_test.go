package bot

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/indicator"
)

func TestPoolRecoversFromPanic(t *testing.T) {
	var logs strings.Builder
	p := newPool(context.Background(), 1, 4, slog.New(slog.NewTextHandler(&logs, nil)))

	var ran atomic.Int64
	p.submit(job{envelopeID: "E1", run: func(context.Context) { panic("boom") }})
	p.submit(job{envelopeID: "E2", run: func(context.Context) { ran.Add(1) }})
	if !p.close(time.Second) {
		t.Fatal("pool did not drain")
	}

	if ran.Load() != 1 {
		t.Error("the job after a panic did not run")
	}
	if !strings.Contains(logs.String(), "job panicked") || !strings.Contains(logs.String(), "E1") {
		t.Errorf("panic not logged with its envelope ID:\n%s", logs.String())
	}
}

func TestPoolBoundedQueue(t *testing.T) {
	release := make(chan struct{})
	p := newPool(context.Background(), 1, 1, slog.New(slog.DiscardHandler))
	block := job{run: func(context.Context) { <-release }}

	if !p.submit(block) {
		t.Fatal("first job rejected")
	}
	// Wait until the worker holds the first job, so the queue is empty.
	deadline := time.Now().Add(time.Second)
	for p.depth() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !p.submit(block) {
		t.Fatal("second job rejected with room in the queue")
	}
	if p.submit(block) {
		t.Error("third job accepted past the queue bound")
	}
	close(release)
	if !p.close(time.Second) {
		t.Error("pool did not drain")
	}
}

func TestPoolDrainTimeout(t *testing.T) {
	p := newPool(context.Background(), 1, 1, slog.New(slog.DiscardHandler))
	release := make(chan struct{})
	defer close(release)
	p.submit(job{run: func(context.Context) { <-release }})

	if p.close(20 * time.Millisecond) {
		t.Error("close reported a drain with a job still running")
	}
}

func TestCheckResponseURL(t *testing.T) {
	r := &replier{apiHost: "slack-gov.example"}
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.slack.com/commands/T1/1/abc", true},
		{"https://slack.com/x", true},
		{"https://hooks.slack-gov.com/commands/T1/1/abc", true},
		{"https://slack-gov.example/response/1", true},
		{"http://127.0.0.1:8080/response/1", true},
		{"http://[::1]:8080/response/1", true},
		{"http://hooks.slack.com/commands/T1/1/abc", false},
		{"https://evil.example/hooks.slack.com", false},
		{"https://hooks.slack.com.evil.example/x", false},
		{"https://notslack.com/x", false},
		{"/relative", false},
		{"", false},
	}
	for _, tt := range tests {
		err := r.checkResponseURL(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("checkResponseURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}

func TestRedactURLError(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "https://hooks.slack.com/commands/T1/1/secretpath", Err: errors.New("connection refused")}
	got := redactURLError(err).Error()
	if strings.Contains(got, "secretpath") || !strings.Contains(got, "connection refused") {
		t.Errorf("redactURLError = %q", got)
	}
}

func TestParseEvent(t *testing.T) {
	payload := []byte(`{"team_id":"T1","event_id":"Ev1","event":{"type":"message","channel":"C1","channel_type":"channel",
		"user":"U1","text":"hi","ts":"1.2","thread_ts":"1.0","edited":{"user":"U1","ts":"1.3"}}}`)
	ev, err := parseEvent("E1", payload)
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventID != "Ev1" || ev.Type != "message" || ev.Channel != "C1" || ev.ThreadTS != "1.0" || !ev.Edited || ev.EnvelopeID != "E1" {
		t.Errorf("parseEvent = %+v", ev)
	}

	if _, err := parseEvent("E2", []byte(`not json`)); err == nil {
		t.Error("parseEvent accepted a payload that is not JSON")
	}
}

func TestEnvelopeID(t *testing.T) {
	if got := envelopeID([]byte(`{"envelope_id":"abc","type":"new"}`)); got != "abc" {
		t.Errorf("envelopeID = %q, want abc", got)
	}
	if got := envelopeID([]byte(`{{`)); got != "" {
		t.Errorf("envelopeID of garbage = %q, want empty", got)
	}
}

func TestParseEventRichTextLinks(t *testing.T) {
	payload := []byte(`{"event_id":"Ev1","event":{"type":"message","channel":"C1","user":"U1","text":"see this","ts":"1.2",
		"blocks":[
			{"type":"rich_text","elements":[
				{"type":"rich_text_section","elements":[
					{"type":"text","text":"see "},
					{"type":"link","url":"https://phish.example.net/a","text":"this"}]},
				{"type":"rich_text_list","elements":[
					{"type":"rich_text_section","elements":[{"type":"link","url":"http://evil.example.com"}]}]},
				{"type":"rich_text_quote","elements":[{"type":"user","user_id":"U2"}]}]},
			{"type":"section","text":{"type":"mrkdwn","text":"not rich text"},"elements":[{"type":"link","url":"https://ignored.example"}]}]}}`)

	ev, err := parseEvent("E1", payload)
	if err != nil {
		t.Fatal(err)
	}
	want := []indicator.Link{{URL: "https://phish.example.net/a", Text: "this"}, {URL: "http://evil.example.com"}}
	if !slices.Equal(ev.Links, want) {
		t.Errorf("Links = %+v, want %+v", ev.Links, want)
	}
}
