package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// sessionTimeout bounds one whole playground run in the tests.
const sessionTimeout = 2 * time.Minute

// testBot builds ./cmd/ipqsbot into a temporary directory and returns the
// binary's path.
func testBot(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ipqsbot")
	out, err := exec.Command("go", "build", "-o", path, "github.com/ipqsbot/ipqsbot/cmd/ipqsbot").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/ipqsbot: %v\n%s", err, out)
	}
	return path
}

// writeFile writes content to name in a temporary directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runPlayground runs the playground in-process and returns its exit code,
// stdout and stderr.
func runPlayground(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sessionTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func assertContains(t *testing.T, output string, parts ...string) {
	t.Helper()
	for _, part := range parts {
		if !strings.Contains(output, part) {
			t.Errorf("output does not contain %q:\n%s", part, output)
		}
	}
}

func TestPlaygroundScriptSession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot binary")
	}
	bot := testBot(t)
	logPath := filepath.Join(t.TempDir(), "bot.log")
	script := writeFile(t, "session.txt", strings.Join([]string{
		"/ipqs 185.220.101.4",
		"@ipqs what about 45.83.64.1?",
		"lunch at noon?",
		"quit",
		"/ipqs 9.9.9.9",
	}, "\n")+"\n")

	code, out, errOut := runPlayground(t, "", "-bot", bot, "-script", script, "-log", logPath)

	if code != exitOK {
		t.Errorf("exit code = %d, want %d\nstderr:\n%s", code, exitOK, errOut)
	}
	assertContains(t, out,
		"> /ipqs 185.220.101.4\n← response_url (ephemeral) of /ipqs in channel "+slacksim.DefaultChannel,
		"== 🔴 Abusive · IP ==\n  `185.220.101[.]4`",
		"Country: ",
		"› IP lookup",
		"> @ipqs what about 45.83.64.1?\n← chat.postMessage to channel "+slacksim.DefaultChannel+", thread ",
		"`45.83.64[.]1`",
		"> lunch at noon?\n(no reply)\n",
		"> quit\nbot exited with code 0\n",
	)
	if strings.Contains(out, "9.9.9.9") {
		t.Errorf("a line after quit was played:\n%s", out)
	}

	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) == 0 {
		t.Error("the bot's log file is empty")
	}
	for _, secret := range []string{appToken, botToken, ipqsKey} {
		if strings.Contains(out, secret) || strings.Contains(string(logs), secret) {
			t.Errorf("output or log contains the credential %q", secret)
		}
	}
}

func TestPlaygroundJSONUntilEOF(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot binary")
	}
	bot := testBot(t)
	logPath := filepath.Join(t.TempDir(), "bot.log")

	code, out, errOut := runPlayground(t, "dm user@example.com\n",
		"-bot", bot, "-json", "-log", logPath, "-env", "LOG_FORMAT=json")

	if code != exitOK {
		t.Errorf("exit code = %d, want %d\nstderr:\n%s", code, exitOK, errOut)
	}
	assertContains(t, out,
		"← chat.postMessage to channel "+dmChannel+", thread ",
		`"type": "header"`,
		"bot exited with code 0\n",
	)
	if strings.Contains(out, "== 🟢") {
		t.Errorf("-json output contains rendered blocks:\n%s", out)
	}

	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(logs, []byte("\n"))
	if !json.Valid(first) {
		t.Errorf("first log line is not JSON, so -env LOG_FORMAT=json did not reach the bot: %s", first)
	}
}

func TestPlaygroundBotExitsAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bot binary")
	}
	bot := testBot(t)

	logPath := filepath.Join(t.TempDir(), "bot.log")
	code, _, errOut := runPlayground(t, "quit\n", "-bot", bot, "-log", logPath, "-env", "AUTO_ENRICH_KINDS=bogus")

	if code != exitFailure {
		t.Errorf("exit code = %d, want %d", code, exitFailure)
	}
	assertContains(t, errOut, "before it connected", "AUTO_ENRICH_KINDS")
}

func TestPlaygroundMissingBot(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-bot")
	logPath := filepath.Join(t.TempDir(), "bot.log")
	code, _, errOut := runPlayground(t, "quit\n", "-bot", missing, "-log", logPath)
	if code != exitFailure {
		t.Errorf("exit code = %d, want %d", code, exitFailure)
	}
	assertContains(t, errOut, "start the bot")
}

func TestPlaygroundUsageErrors(t *testing.T) {
	tests := map[string][]string{
		"env without equals": {"-env", "AUTO_ENRICH_KINDS"},
		"env without name":   {"-env", "=url"},
		"unknown flag":       {"-verbose"},
		"extra argument":     {"script.txt"},
		"missing script":     {"-script", filepath.Join(t.TempDir(), "missing.txt")},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runPlayground(t, "", args...)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d", code, exitUsage)
			}
			if errOut == "" {
				t.Error("stderr is empty, want an error message")
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing before the bot starts", out)
			}
		})
	}
}

func TestPrintPostRendersBlocks(t *testing.T) {
	post := slacksim.Post{
		Method:   slacksim.MethodPostMessage,
		Channel:  "C1",
		ThreadTS: "100.000001",
		TS:       "100.000002",
		Text:     "fallback text",
		Blocks: json.RawMessage(`[
			{"type":"header","text":{"type":"plain_text","text":"evil[.]example"}},
			{"type":"section","text":{"type":"mrkdwn","text":"*Risky*\nphishing"},
			 "fields":[{"type":"mrkdwn","text":"*Country*\nUS"},{"type":"mrkdwn","text":"plain field"}]},
			{"type":"context","elements":[{"type":"mrkdwn","text":"URL lookup"},{"type":"image","image_url":"x","alt_text":"logo"}]},
			{"type":"divider"},
			{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"Recheck"}}]},
			{"type":"video"}
		]`),
	}
	var out bytes.Buffer
	printPost(&out, post, false)

	want := strings.Join([]string{
		"← chat.postMessage to channel C1, thread 100.000001, ts 100.000002",
		"  text: fallback text",
		"  == evil[.]example ==",
		"  *Risky*",
		"  phishing",
		"    Country: US",
		"    plain field",
		"  › URL lookup  [image: logo]",
		"  " + divider,
		"  [Recheck]",
		"  [video block]",
	}, "\n") + "\n"
	if got := out.String(); got != want {
		t.Errorf("printPost output:\n%s\nwant:\n%s", got, want)
	}
}

func TestPrintPostResponseURL(t *testing.T) {
	post := slacksim.Post{Method: slacksim.MethodResponseURL, Channel: "C2", Text: "t", Blocks: json.RawMessage(`[{"type":"divider"}]`)}
	var out bytes.Buffer
	printPost(&out, post, true)

	assertContains(t, out.String(),
		"← response_url (ephemeral) of /ipqs in channel C2\n",
		`"type": "divider"`,
	)
}
