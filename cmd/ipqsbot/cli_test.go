package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/internal/ipqsfake"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, envFunc(env), strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExtractCommand(t *testing.T) {
	code, out, _ := runCLI(t, nil, "see hxxps://evil[.]com/x, 10.0.0.1 and <mailto:bob@example.com|bob@example.com>", "extract")
	if code != exitOK {
		t.Fatalf("exit code = %d, want 0", code)
	}

	var got []indicator.Indicator
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ind indicator.Indicator
		if err := json.Unmarshal(sc.Bytes(), &ind); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		got = append(got, ind)
	}
	want := []indicator.Indicator{
		{Kind: indicator.KindURL, Value: "https://evil.com/x"},
		{Kind: indicator.KindIP, Value: "10.0.0.1"},
		{Kind: indicator.KindEmail, Value: "bob@example.com"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].Value != want[i].Value {
			t.Errorf("line %d = %s %q, want %s %q", i, got[i].Kind, got[i].Value, want[i].Kind, want[i].Value)
		}
	}
	if got[1].Skipped == "" {
		t.Error("private address not marked skipped")
	}
	if got[0].Skipped != "" {
		t.Errorf("public URL marked skipped: %q", got[0].Skipped)
	}
	if strings.Contains(out, `"skipped":""`) {
		t.Error("empty skipped field not omitted")
	}
}

func TestExtractCommandHidesCredentials(t *testing.T) {
	code, out, _ := runCLI(t, nil, "https://user:pw@evil.com/a?b=1", "extract")
	if code != exitOK {
		t.Fatalf("exit code = %d, want 0", code)
	}
	var ind indicator.Indicator
	if err := json.Unmarshal([]byte(out), &ind); err != nil {
		t.Fatalf("output %q is not JSON: %v", out, err)
	}
	if want := "hxxps://REDACTED@evil[.]com/a?b=1"; ind.Display != want {
		t.Errorf("display = %q, want %q, as the bot shows it", ind.Display, want)
	}
}

func TestExtractCommandNothingFound(t *testing.T) {
	code, out, _ := runCLI(t, nil, "nothing to see here", "extract")
	if code != exitOK || out != "" {
		t.Errorf("exit code = %d, output = %q; want 0 and nothing", code, out)
	}
}

func TestExtractCommandUsage(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "", "extract", "file.txt")
	if code != exitUsage || !strings.Contains(stderr, "reads stdin") {
		t.Errorf("exit code = %d, stderr = %q; want 2 and a usage message", code, stderr)
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "", "serve")
	if code != exitUsage || !strings.Contains(stderr, `unknown command "serve"`) {
		t.Errorf("exit code = %d, stderr = %q", code, stderr)
	}
}

func TestLookupCommand(t *testing.T) {
	fake := ipqsfake.New(testIPQSKey)
	defer fake.Close()
	env := map[string]string{"IPQS_API_KEY": testIPQSKey, "IPQS_BASE_URL": fake.URL()}

	code, out, stderr := runCLI(t, env, "", "lookup", "185.220.101.4", "hxxps://phish[.]example[.]com/login")
	if code != exitOK {
		t.Fatalf("exit code = %d, want 0\nstderr: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines = %d, want 2:\n%s", len(lines), out)
	}
	if !strings.Contains(lines[0], "fraud_score=") || !strings.Contains(lines[1], "risk_score=100") {
		t.Errorf("verdict lines lack scores:\n%s", out)
	}

	// --json may also come after the indicators.
	code, out, _ = runCLI(t, env, "", "lookup", "user@example.com", "--json")
	if code != exitOK {
		t.Fatalf("--json exit code = %d, want 0", code)
	}
	var line struct {
		Kind   string          `json:"kind"`
		Value  string          `json:"value"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &line); err != nil {
		t.Fatalf("--json output is not one JSON object: %v\n%s", err, out)
	}
	if line.Kind != "email" || line.Value != "user@example.com" || !bytes.Contains(line.Result, []byte(`"request_id"`)) {
		t.Errorf("--json line = %+v, want the email and the IPQS result as received", line)
	}
	assertNoSecrets(t, "lookup output", out)
}

func TestLookupCommandLogsText(t *testing.T) {
	fake := ipqsfake.New(testIPQSKey)
	defer fake.Close()
	fake.Respond("ip", "45.83.64.9", ipqsfake.Response{Fixture: "error_quota.json"})
	env := map[string]string{"IPQS_API_KEY": testIPQSKey, "IPQS_BASE_URL": fake.URL()}

	_, _, stderr := runCLI(t, env, "", "lookup", "45.83.64.9")
	if !strings.Contains(stderr, "level=WARN") {
		t.Errorf("stderr without LOG_FORMAT is not text logs:\n%s", stderr)
	}

	env["LOG_FORMAT"] = "json"
	_, _, stderr = runCLI(t, env, "", "lookup", "45.83.64.9")
	if !strings.Contains(stderr, `"level":"WARN"`) {
		t.Errorf("stderr with LOG_FORMAT=json is not JSON logs:\n%s", stderr)
	}
}

func TestLookupCommandFailures(t *testing.T) {
	fake := ipqsfake.New(testIPQSKey)
	defer fake.Close()
	fake.Respond("ip", "45.83.64.9", ipqsfake.Response{Fixture: "error_quota.json"})
	env := map[string]string{"IPQS_API_KEY": testIPQSKey, "IPQS_BASE_URL": fake.URL()}

	tests := []struct {
		name string
		args []string
		want int
	}{
		{"failed lookup", []string{"lookup", "185.220.101.4", "45.83.64.9"}, exitFailure},
		{"private address", []string{"lookup", "192.168.1.1"}, exitFailure},
		{"not an indicator", []string{"lookup", "hello"}, exitFailure},
		{"no arguments", []string{"lookup"}, exitUsage},
		{"bad flag", []string{"lookup", "--xml", "1.1.1.1"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, env, "", tt.args...)
			if code != tt.want {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.want, out, stderr)
			}
			assertNoSecrets(t, "lookup output", out+stderr)
		})
	}

	code, _, stderr := runCLI(t, nil, "", "lookup", "1.1.1.1")
	if code != exitUsage || !strings.Contains(stderr, "IPQS_API_KEY is missing") {
		t.Errorf("without a key: exit code = %d, stderr = %q", code, stderr)
	}
}

// TestBinary builds ipqsbot, runs it against the fakes, sends it a slash
// command, and stops the process with SIGTERM.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "ipqsbot")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	sim := slacksim.New(slacksim.Options{AppToken: testAppToken, BotToken: testBotToken})
	defer sim.Close()
	fake := ipqsfake.New(testIPQSKey)
	defer fake.Close()

	var logs syncBuffer
	cmd := exec.Command(bin)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		"SLACK_APP_TOKEN="+testAppToken,
		"SLACK_BOT_TOKEN="+testBotToken,
		"IPQS_API_KEY="+testIPQSKey,
		"SLACK_API_URL="+sim.APIURL(),
		"IPQS_BASE_URL="+fake.URL(),
		"LOG_FORMAT=text",
		"METRICS_ADDR=none",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := sim.WaitConnected(ctx); err != nil {
		t.Fatalf("binary did not connect: %v\n%s", err, logs.String())
	}
	id := sim.SlashCommand(slacksim.SlashCommand{Text: "hxxps://login-example[.]com/x"})
	if _, err := sim.WaitAck(ctx, id); err != nil {
		t.Fatal(err)
	}
	posts, err := sim.WaitPosts(ctx, 1)
	if err != nil {
		t.Fatalf("no reply: %v\n%s", err, logs.String())
	}
	assertSafeCard(t, posts[0], "https://login-example.com")

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0\n%s", err, logs.String())
		}
	case <-time.After(waitTimeout):
		t.Fatal("binary did not stop after SIGTERM")
	}
	assertNoSecrets(t, "binary logs", logs.String())
}
