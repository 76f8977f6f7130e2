package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func httpGet(url string) (int, string, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func TestMetricsServerWithBot(t *testing.T) {
	addr := freeAddr(t)
	h := startBot(t, map[string]string{"METRICS_ADDR": addr})
	base := "http://" + addr

	if code, body, err := httpGet(base + "/healthz"); err != nil || code != http.StatusOK {
		t.Fatalf("/healthz = %d %q, %v; want 200", code, body, err)
	}

	// The bot marks itself connected when it reads the connected event,
	// a moment after the simulator sees the connection.
	deadline := time.Now().Add(waitTimeout)
	for {
		code, body, err := httpGet(base + "/readyz")
		if err == nil && code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz = %d %q, %v; want 200 once connected", code, body, err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The same IP twice: one IPQS call, then a memory hit.
	h.command("185.220.101.4")
	h.command("185.220.101.4")
	// The bot observes the acknowledgement after the simulator has it.
	want := []string{
		`ipqsbot_envelopes_total{type="slash_commands"} 2`,
		"ipqsbot_ack_seconds_count 2",
		`ipqsbot_ipqs_calls_total{op="ip"} 1`,
		`ipqsbot_cache_total{result="hit",tier="memory"} 1`,
		`ipqsbot_lookups_total{kind="ip",outcome="ok"} 2`,
		`ipqsbot_slack_posts_total{method="response_url"} 2`,
		"ipqsbot_queue_depth",
		`ipqsbot_slack_connection_opens_total{throttled="false"} 1`,
		"ipqsbot_last_event_timestamp_seconds",
	}
	var body string
	for {
		_, text, err := httpGet(base + "/metrics")
		body = text
		if err == nil && containsAll(body, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks one of %q:\n%s", want, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	assertNoSecrets(t, "metrics", body)

	h.shutdown()
	if _, _, err := httpGet(base + "/healthz"); err == nil {
		t.Error("/healthz still answers after the bot stopped")
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestMetricsAddrInUseStopsStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	env := envFunc(map[string]string{
		"SLACK_APP_TOKEN": testAppToken,
		"SLACK_BOT_TOKEN": testBotToken,
		"IPQS_API_KEY":    testIPQSKey,
		"METRICS_ADDR":    ln.Addr().String(),
	})
	var stderr syncBuffer
	code := run(context.Background(), nil, env, strings.NewReader(""), io.Discard, &stderr)
	if code != exitFailure {
		t.Errorf("exit code = %d, want %d", code, exitFailure)
	}
	if !strings.Contains(stderr.String(), "check METRICS_ADDR") {
		t.Errorf("log does not name METRICS_ADDR:\n%s", stderr.String())
	}
}
