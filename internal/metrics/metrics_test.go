package metrics

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// startServer serves m on a free loopback port with checks and returns its
// base URL; the server stops when the test ends.
func startServer(t *testing.T, m *Metrics, checks ...Check) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, m.Handler(checks...)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func TestHealthz(t *testing.T) {
	base := startServer(t, New())
	code, body := get(t, base+"/healthz")
	if code != http.StatusOK {
		t.Errorf("status = %d, want 200", code)
	}
	if strings.TrimSpace(body) != "ok" {
		t.Errorf("body = %q, want ok", body)
	}
}

func TestReadyzFollowsChecks(t *testing.T) {
	var connected, redisUp atomic.Bool
	slack := func(context.Context) error {
		if !connected.Load() {
			return errors.New("slack: not connected")
		}
		return nil
	}
	redis := func(context.Context) error {
		if !redisUp.Load() {
			return errors.New("redis: not reachable")
		}
		return nil
	}
	base := startServer(t, New(), slack, redis)

	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable {
		t.Errorf("before connected: status = %d, want 503", code)
	}
	if !strings.Contains(body, "slack: not connected") || !strings.Contains(body, "redis: not reachable") {
		t.Errorf("before connected: body = %q, want both reasons", body)
	}

	connected.Store(true)
	code, body = get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable {
		t.Errorf("redis down: status = %d, want 503", code)
	}
	if strings.Contains(body, "slack") || !strings.Contains(body, "redis: not reachable") {
		t.Errorf("redis down: body = %q, want only the redis reason", body)
	}

	redisUp.Store(true)
	if code, body = get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("all ready: status = %d %q, want 200", code, body)
	}
}

func TestMetricsExposition(t *testing.T) {
	m := New()
	base := startServer(t, m)

	m.Envelope("events_api")
	m.Envelope("events_api")
	m.Ack(3 * time.Millisecond)
	m.Reconnect()
	m.ConnectionOpen(false)
	m.ConnectionOpen(true)
	m.ConnectionOpen(true)
	m.QueueDepth(7)
	m.Lookup("ip", "ok")
	m.CacheRead(TierMemory, true)
	m.CacheRead(TierRedis, false)
	m.IPQSCall("ip")
	m.IPQSError("timeout")
	m.SlackPost("chat.postMessage")
	m.SlackRateLimited("chat.postMessage")
	m.ReplyQueue("chat.postMessage", 12)

	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("status = %d, want 200", code)
	}
	for _, want := range []string{
		`ipqsbot_envelopes_total{type="events_api"} 2`,
		`ipqsbot_ack_seconds_bucket{le="0.005"} 1`,
		`ipqsbot_ack_seconds_bucket{le="0.0025"} 0`,
		"ipqsbot_ack_seconds_count 1",
		"ipqsbot_reconnects_total 1",
		`ipqsbot_slack_connection_opens_total{throttled="false"} 1`,
		`ipqsbot_slack_connection_opens_total{throttled="true"} 2`,
		`ipqsbot_slack_reply_queue{method="chat.postMessage"} 12`,
		"ipqsbot_queue_depth 7",
		`ipqsbot_lookups_total{kind="ip",outcome="ok"} 1`,
		`ipqsbot_cache_total{result="hit",tier="memory"} 1`,
		`ipqsbot_cache_total{result="miss",tier="redis"} 1`,
		`ipqsbot_ipqs_calls_total{op="ip"} 1`,
		`ipqsbot_ipqs_errors_total{class="timeout"} 1`,
		`ipqsbot_slack_posts_total{method="chat.postMessage"} 1`,
		`ipqsbot_slack_ratelimited_total{method="chat.postMessage"} 1`,
		"ipqsbot_last_event_timestamp_seconds ",
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestServeStopsWithContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, New().Handler()) }()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v, want nil after the context ends", err)
		}
	case <-time.After(ShutdownTimeout + time.Second):
		t.Fatal("Serve did not return after the context ended")
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("listener still accepts connections after Serve returned")
	}
}
