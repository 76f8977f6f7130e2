package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/breaker"
	"github.com/ipqsbot/ipqsbot/internal/ipqsfake"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// Credentials of the tests. Every test checks that none of them reaches a
// log line or a reply.
const (
	testAppToken = "xapp-1-A0TEST-1111-appsecretappsecret"
	testBotToken = "xoxb-2222-3333-botsecretbotsecret"
	testIPQSKey  = "IPQSTESTKEY0123456789abcdefABCDEF"
)

// waitTimeout bounds every wait of the end-to-end tests.
const waitTimeout = 15 * time.Second

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is the real bot, run in-process through run, against the Slack
// simulator and the IPQS fake.
type harness struct {
	t        *testing.T
	stopOnce sync.Once
	sim      *slacksim.Sim
	ipqs     *ipqsfake.Server
	logs     *syncBuffer
	stop     context.CancelFunc
	exit     chan int
	ctx      context.Context
	cancel   context.CancelFunc
}

func envFunc(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// startBot starts the bot with the test credentials, the fakes' URLs and
// extra settings, and waits until it is connected.
func startBot(t *testing.T, extra map[string]string, opts ...ipqsfake.Option) *harness {
	t.Helper()
	h := &harness{
		t:    t,
		sim:  slacksim.New(slacksim.Options{AppToken: testAppToken, BotToken: testBotToken}),
		ipqs: ipqsfake.New(testIPQSKey, opts...),
		logs: &syncBuffer{},
		exit: make(chan int, 1),
	}
	h.ctx, h.cancel = context.WithTimeout(context.Background(), 2*waitTimeout)

	env := map[string]string{
		"SLACK_APP_TOKEN": testAppToken,
		"SLACK_BOT_TOKEN": testBotToken,
		"IPQS_API_KEY":    testIPQSKey,
		"SLACK_API_URL":   h.sim.APIURL(),
		"IPQS_BASE_URL":   h.ipqs.URL(),
		"LOG_LEVEL":       "debug",
		// Tests that need the metrics server set a free port.
		"METRICS_ADDR": "none",
	}
	for k, v := range extra {
		env[k] = v
	}

	runCtx, stop := context.WithCancel(context.Background())
	h.stop = stop
	go func() {
		h.exit <- run(runCtx, nil, envFunc(env), strings.NewReader(""), io.Discard, h.logs)
	}()

	t.Cleanup(h.shutdown)
	if err := h.sim.WaitConnected(h.ctx); err != nil {
		t.Fatalf("bot did not connect: %v\nlogs:\n%s", err, h.logs)
	}
	return h
}

// shutdown stops the bot as SIGTERM would, checks that it exits 0, and scans
// everything it logged and posted for the credentials. Calls after the first
// do nothing.
func (h *harness) shutdown() {
	h.stopOnce.Do(h.shutdownOnce)
}

func (h *harness) shutdownOnce() {
	t := h.t
	h.stop()
	select {
	case code := <-h.exit:
		if code != exitOK {
			t.Errorf("exit code = %d, want 0\nlogs:\n%s", code, h.logs)
		}
	case <-time.After(waitTimeout):
		t.Errorf("bot did not stop within %v", waitTimeout)
	}

	var posted strings.Builder
	for _, p := range h.sim.Posts() {
		fmt.Fprintf(&posted, "%s\n%s\n", p.Text, p.Blocks)
	}
	assertNoSecrets(t, "logs", h.logs.String())
	assertNoSecrets(t, "posts", posted.String())

	h.cancel()
	h.sim.Close()
	h.ipqs.Close()
}

func assertNoSecrets(t *testing.T, where, text string) {
	t.Helper()
	for name, s := range map[string]string{"app token": testAppToken, "bot token": testBotToken, "IPQS key": testIPQSKey} {
		if strings.Contains(text, s) {
			t.Errorf("%s contain the %s", where, name)
		}
	}
}

// command sends a slash command and returns the reply posted to its
// response_url.
func (h *harness) command(text string) slacksim.Post {
	h.t.Helper()
	id := h.sim.SlashCommand(slacksim.SlashCommand{Text: text, ChannelID: "C0INCIDENT", UserID: "U0RESPONDER"})
	if _, err := h.sim.WaitAck(h.ctx, id); err != nil {
		h.t.Fatalf("command %q not acknowledged: %v", text, err)
	}
	return h.waitPost(func(p slacksim.Post) bool { return p.EnvelopeID == id })
}

// waitPost waits for a post that match accepts.
func (h *harness) waitPost(match func(slacksim.Post) bool) slacksim.Post {
	h.t.Helper()
	for n := 1; ; n++ {
		posts, err := h.sim.WaitPosts(h.ctx, n)
		if err != nil {
			h.t.Fatalf("no matching post: %v\nposts: %d\nlogs:\n%s", err, len(h.sim.Posts()), h.logs)
		}
		for _, p := range posts {
			if match(p) {
				return p
			}
		}
	}
}

// quiet waits long enough for stray work to finish, then returns the posts.
func (h *harness) quiet() []slacksim.Post {
	time.Sleep(300 * time.Millisecond)
	return h.sim.Posts()
}

// card returns the post's text and blocks as one string for assertions.
func card(p slacksim.Post) string { return p.Text + "\n" + string(p.Blocks) }

// assertSafeCard checks what every reply must hold: no link unfurling, no
// clickable indicator, no mention or broadcast markup.
func assertSafeCard(t *testing.T, p slacksim.Post, indicators ...string) {
	t.Helper()
	body := card(p)
	for _, raw := range indicators {
		if strings.Contains(body, raw) {
			t.Errorf("reply contains %q in clickable form:\n%s", raw, body)
		}
	}
	for _, markup := range []string{"<http", "<!", "<@", "<mailto"} {
		if strings.Contains(body, markup) {
			t.Errorf("reply contains markup %q:\n%s", markup, body)
		}
	}
	if p.Method != "response_url" && (p.UnfurlLinks == nil || *p.UnfurlLinks || p.UnfurlMedia == nil || *p.UnfurlMedia) {
		t.Errorf("post does not turn unfurling off: links %v, media %v", p.UnfurlLinks, p.UnfurlMedia)
	}
	if p.Method == "response_url" && p.ResponseType != "ephemeral" {
		t.Errorf("response_type = %q, want ephemeral", p.ResponseType)
	}
	if !json.Valid(p.Blocks) || len(p.Blocks) < 3 {
		t.Errorf("reply has no blocks: %s", p.Blocks)
	}
}

func TestSlashCommandLookup(t *testing.T) {
	h := startBot(t, nil)

	p := h.command("185.220.101.4")

	if p.Method != "response_url" {
		t.Errorf("reply method = %s, want response_url", p.Method)
	}
	assertSafeCard(t, p, "185.220.101.4")
	if !strings.Contains(card(p), "185.220.101[.]4") {
		t.Errorf("card does not show the defanged IP:\n%s", card(p))
	}
	if n := h.ipqs.Calls("ip", "185.220.101.4"); n != 1 {
		t.Errorf("IPQS calls = %d, want 1", n)
	}
	t.Logf("transcript: user sent `/ipqs 185.220.101.4`; bot posted to response_url:\n%s", p.Blocks)
}

func TestSlashCommandAckIsFast(t *testing.T) {
	h := startBot(t, nil)
	h.ipqs.SetLatency(time.Second)

	id := h.sim.SlashCommand(slacksim.SlashCommand{Text: "45.83.64.1"})
	ack, err := h.sim.WaitAck(h.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ack.Latency > 500*time.Millisecond {
		t.Errorf("ack latency = %v with IPQS answering in 1s; the ack must not wait for the lookup", ack.Latency)
	}
	h.waitPost(func(p slacksim.Post) bool { return p.EnvelopeID == id })
}

func TestSlashCommandBadInput(t *testing.T) {
	h := startBot(t, nil)

	tests := []struct {
		name string
		text string
		want string
	}{
		{"empty", "", "/ipqs status"},
		{"garbage", "}}{{ ¯\\_(ツ)_/¯ ???", "No IP address, URL, domain or email address"},
		{"5000 characters", strings.Repeat("x", 5000), "No IP address, URL, domain or email address"},
		{"private ip", "10.20.30.40", "10.20.30"},
		{"unknown parameter", "ip 185.220.101.4 colour=red", "unknown parameter"},
		{"out of range", "email user@example.com timeout=99", "from 1 to 60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := h.command(tt.text)
			if !strings.Contains(card(p), tt.want) {
				t.Errorf("reply does not contain %q:\n%s", tt.want, card(p))
			}
		})
	}
	if n := h.ipqs.TotalCalls(); n != 0 {
		t.Errorf("IPQS calls = %d, want 0 for input that holds nothing to look up", n)
	}
}

func TestSlashCommandStatus(t *testing.T) {
	h := startBot(t, nil)
	p := h.command("status")
	if !strings.Contains(card(p), "4,999,762") && !strings.Contains(card(p), "4999762") {
		t.Errorf("status does not show the credits left:\n%s", card(p))
	}
}

func TestSlashCommandIPQSFailures(t *testing.T) {
	h := startBot(t, nil)
	h.ipqs.Respond("ip", "45.83.64.1", ipqsfake.Response{Status: 500})
	h.ipqs.Respond("ip", "45.83.64.2", ipqsfake.Response{Fixture: "error_quota.json"})

	p := h.command("45.83.64.1")
	if !strings.Contains(card(p), "not answering") {
		t.Errorf("HTTP 500 reply does not say IPQS is not answering:\n%s", card(p))
	}
	if strings.Contains(card(p), "status 500") {
		t.Errorf("reply shows a Go error:\n%s", card(p))
	}
	if n := h.ipqs.Calls("ip", "45.83.64.1"); n < 2 {
		t.Errorf("IPQS calls after HTTP 500 = %d, want a retry", n)
	}

	p = h.command("45.83.64.2")
	if !strings.Contains(strings.ToLower(card(p)), "credits") {
		t.Errorf("success:false reply does not say the credits ran out:\n%s", card(p))
	}
	if n := h.ipqs.Calls("ip", "45.83.64.2"); n != 1 {
		t.Errorf("IPQS calls after success:false = %d, want 1 (never retried)", n)
	}
}

func TestMentionAnsweredOnceInThread(t *testing.T) {
	h := startBot(t, nil)

	ref := h.sim.Mention("C0INCIDENT", "U0RESPONDER", "what about 45.83.64.1 and bad[.]example/login?")
	p := h.waitPost(func(p slacksim.Post) bool { return p.Method == "chat.postMessage" })

	if p.Channel != "C0INCIDENT" || p.ThreadTS != ref.TS {
		t.Errorf("reply in %s thread %q, want C0INCIDENT thread %q", p.Channel, p.ThreadTS, ref.TS)
	}
	assertSafeCard(t, p, "45.83.64.1", "bad.example")
	if posts := h.quiet(); len(posts) != 1 {
		t.Errorf("posts = %d, want 1 for a mention delivered as app_mention and message", len(posts))
	}
	if n := h.ipqs.Calls("ip", "45.83.64.1"); n != 1 {
		t.Errorf("IPQS calls for the IP = %d, want 1", n)
	}
	t.Logf("transcript: user posted %q; bot replied in thread:\n%s", "@ipqs what about 45.83.64.1 and bad[.]example/login?", p.Blocks)
}

func TestDirectMessageAnswered(t *testing.T) {
	h := startBot(t, nil)
	ref := h.sim.Message("D0DIRECT", "U0RESPONDER", "user@example.com")
	p := h.waitPost(func(p slacksim.Post) bool { return p.Channel == "D0DIRECT" })
	if p.ThreadTS != ref.TS {
		t.Errorf("thread = %q, want %q", p.ThreadTS, ref.TS)
	}
	assertSafeCard(t, p, "user@example.com")
}

func TestPastedLinkEnriched(t *testing.T) {
	h := startBot(t, nil)

	ref := h.sim.Message("C0CHANNEL", "U0PASTER", "heads up: <https://phish.example.com/login|phish.example.com/login> is going around")
	p := h.waitPost(func(p slacksim.Post) bool { return p.Channel == "C0CHANNEL" })

	if p.ThreadTS != ref.TS {
		t.Errorf("reply thread = %q, want the thread of the pasted message %q", p.ThreadTS, ref.TS)
	}
	assertSafeCard(t, p, "https://phish.example.com", "phish.example.com/login")
	if !strings.Contains(strings.ToLower(card(p)), "phishing") {
		t.Errorf("card does not flag phishing:\n%s", card(p))
	}
	t.Logf("transcript: user pasted a link; bot replied in thread:\n%s", p.Blocks)
}

func TestPastedIPNotEnrichedByDefault(t *testing.T) {
	h := startBot(t, nil)
	ref := h.sim.Message("C0CHANNEL", "U0PASTER", "traffic from 45.83.64.1 again")
	if _, err := h.sim.WaitAck(h.ctx, ref.EnvelopeID); err != nil {
		t.Fatal(err)
	}
	if posts := h.quiet(); len(posts) != 0 {
		t.Errorf("posts = %d, want 0: IPs are not in the default AUTO_ENRICH_KINDS", len(posts))
	}
}

func TestAutoEnrichKindsSetting(t *testing.T) {
	h := startBot(t, map[string]string{"AUTO_ENRICH_KINDS": "ip"})
	h.sim.Message("C0CHANNEL", "U0PASTER", "traffic from 45.83.64.1 again, see https://phish.example.com/x")
	p := h.waitPost(func(p slacksim.Post) bool { return p.Channel == "C0CHANNEL" })
	if h.ipqs.Calls("ip", "45.83.64.1") != 1 || h.ipqs.TotalCalls() != 1 {
		t.Errorf("IPQS calls = %d, want only the IP looked up:\n%s", h.ipqs.TotalCalls(), card(p))
	}
}

func TestRetriedEventAnsweredOnce(t *testing.T) {
	h := startBot(t, nil)

	ref := h.sim.Message("C0CHANNEL", "U0PASTER", "https://phish.example.com/retry")
	h.waitPost(func(p slacksim.Post) bool { return p.Channel == "C0CHANNEL" })
	retry, err := h.sim.Retry(ref.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.sim.WaitAck(h.ctx, retry); err != nil {
		t.Errorf("retried envelope not acknowledged: %v", err)
	}
	if posts := h.quiet(); len(posts) != 1 {
		t.Errorf("posts = %d, want 1 for an event and its retry", len(posts))
	}
}

func TestBotMessagesIgnored(t *testing.T) {
	h := startBot(t, nil)

	refs := []slacksim.EventRef{
		h.sim.Message("C0CHANNEL", h.sim.BotUserID(), "https://phish.example.com/own", slacksim.WithBotID(h.sim.BotID())),
		h.sim.Message("C0CHANNEL", "U0OTHERBOT", "https://phish.example.com/other", slacksim.WithBotID("B0OTHER"), slacksim.WithSubtype("bot_message")),
		h.sim.Message("C0CHANNEL", "U0PASTER", "https://phish.example.com/edited", slacksim.WithEdited("1700000000.000001")),
		h.sim.Message("C0CHANNEL", "U0PASTER", "https://phish.example.com/join", slacksim.WithSubtype("channel_join")),
	}
	for _, ref := range refs {
		if _, err := h.sim.WaitAck(h.ctx, ref.EnvelopeID); err != nil {
			t.Fatalf("envelope not acknowledged: %v", err)
		}
	}
	if posts := h.quiet(); len(posts) != 0 {
		t.Errorf("posts = %d, want 0 for the bot's own, another bot's, edited and join messages", len(posts))
	}
	if n := h.ipqs.TotalCalls(); n != 0 {
		t.Errorf("IPQS calls = %d, want 0", n)
	}
}

func TestConcurrentMentionsShareOneLookup(t *testing.T) {
	h := startBot(t, nil)
	h.ipqs.SetLatency(200 * time.Millisecond)

	for i := range 5 {
		h.sim.Mention(fmt.Sprintf("C0CHAN%d", i), "U0RESPONDER", "is 185.220.101.4 bad?")
	}
	posts, err := h.sim.WaitPosts(h.ctx, 5)
	if err != nil {
		t.Fatalf("replies: %v", err)
	}
	if n := h.ipqs.Calls("ip", "185.220.101.4"); n != 1 {
		t.Errorf("IPQS calls = %d, want exactly 1 for 5 concurrent mentions of one IP", n)
	}
	if len(h.quiet()) != 5 || len(posts) != 5 {
		t.Errorf("posts = %d, want 5", len(h.sim.Posts()))
	}
}

func TestUnknownEnvelopeAcknowledged(t *testing.T) {
	h := startBot(t, nil)

	h.sim.Raw(`{"envelope_id":"env-unknown-1","type":"brand_new_type","payload":{}}`)
	if _, err := h.sim.WaitAck(h.ctx, "env-unknown-1"); err != nil {
		t.Errorf("unknown envelope type not acknowledged: %v", err)
	}
	id := h.sim.ButtonClick("C0CHANNEL", "U0RESPONDER", "nothing", "x")
	if _, err := h.sim.WaitAck(h.ctx, id); err != nil {
		t.Errorf("interactive envelope not acknowledged: %v", err)
	}

	// The bot keeps working after both.
	h.command("help")
}

func TestShutdownFinishesInFlightWork(t *testing.T) {
	// No spend limit may answer a lookup before IPQS does.
	h := startBot(t, map[string]string{"USER_LOOKUP_LIMIT": "unlimited", "LOOKUP_LIMIT_PER_MINUTE": "0"})
	h.ipqs.SetLatency(500 * time.Millisecond)

	var ids []string
	for i := range 100 {
		id := h.sim.SlashCommand(slacksim.SlashCommand{Text: fmt.Sprintf("45.83.%d.%d", 65+i/200, i%200+1)})
		ids = append(ids, id)
	}
	for _, id := range ids {
		if _, err := h.sim.WaitAck(h.ctx, id); err != nil {
			t.Fatal(err)
		}
	}

	h.stop()
	select {
	case code := <-h.exit:
		h.exit <- code
	case <-time.After(waitTimeout):
		t.Fatal("bot did not stop")
	}
	if n := len(h.sim.Posts()); n != len(ids) {
		t.Errorf("answered %d of %d commands in flight at shutdown", n, len(ids))
	}
	if n := h.ipqs.TotalCalls(); n != len(ids) {
		t.Errorf("IPQS calls = %d, want %d: every lookup in flight runs to its end", n, len(ids))
	}
	for _, p := range h.sim.Posts() {
		if !strings.Contains(card(p), "fraud score") {
			t.Errorf("a command was answered without its result:\n%s", card(p))
			break
		}
	}
}

func TestStartWithoutCredentials(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), nil, envFunc(nil), strings.NewReader(""), io.Discard, &stderr)

	if code != exitUsage {
		t.Errorf("exit code = %d, want %d", code, exitUsage)
	}
	for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "IPQS_API_KEY"} {
		if !strings.Contains(stderr.String(), name+" is missing") {
			t.Errorf("message does not name %s:\n%s", name, stderr.String())
		}
	}
}

func TestStartWithRejectedToken(t *testing.T) {
	sim := slacksim.New(slacksim.Options{AppToken: testAppToken, BotToken: testBotToken})
	defer sim.Close()
	var stderr syncBuffer
	env := envFunc(map[string]string{
		"SLACK_APP_TOKEN": testAppToken,
		"SLACK_BOT_TOKEN": "xoxb-revoked-token-0000",
		"IPQS_API_KEY":    testIPQSKey,
		"SLACK_API_URL":   sim.APIURL(),
	})

	code := run(context.Background(), nil, env, strings.NewReader(""), io.Discard, &stderr)
	if code != exitFailure {
		t.Errorf("exit code = %d, want %d", code, exitFailure)
	}
	if !strings.Contains(stderr.String(), "SLACK_BOT_TOKEN") || !strings.Contains(stderr.String(), "invalid_auth") {
		t.Errorf("message does not name the token and Slack's error:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "xoxb-revoked-token-0000") {
		t.Error("message leaks the token")
	}
}

func TestURLCredentialsNeverLeave(t *testing.T) {
	h := startBot(t, nil)

	p := h.command("https://victim:hunter2@login-example.com/reset")

	if strings.Contains(card(p), "hunter2") {
		t.Errorf("reply shows the password:\n%s", card(p))
	}
	if strings.Contains(h.logs.String(), "hunter2") {
		t.Error("logs contain the password")
	}
	for _, r := range h.ipqs.Requests() {
		if strings.Contains(r.RawQuery, "hunter2") || strings.Contains(r.RawQuery, "victim") {
			t.Errorf("IPQS request carries the credentials: %s", r.RawQuery)
		}
	}
	if n := h.ipqs.Calls("url", "https://login-example.com/reset"); n != 1 {
		t.Errorf("IPQS calls for the URL without credentials = %d, want 1", n)
	}
}

func TestPastedLinkFromRichTextBlocks(t *testing.T) {
	h := startBot(t, nil)

	blocks := []map[string]any{{
		"type": "rich_text",
		"elements": []map[string]any{{
			"type": "rich_text_section",
			"elements": []map[string]any{
				{"type": "text", "text": "please check "},
				{"type": "link", "url": "https://phish.example.com/verify", "text": "this page"},
			},
		}},
	}}
	ref := h.sim.Message("C0CHANNEL", "U0PASTER", "please check this page", slacksim.WithField("blocks", blocks))
	p := h.waitPost(func(p slacksim.Post) bool { return p.Channel == "C0CHANNEL" })

	if p.ThreadTS != ref.TS {
		t.Errorf("thread = %q, want %q", p.ThreadTS, ref.TS)
	}
	if n := h.ipqs.Calls("url", "https://phish.example.com/verify"); n != 1 {
		t.Errorf("IPQS calls for the link in the blocks = %d, want 1", n)
	}
	assertSafeCard(t, p, "https://phish.example.com")
}

func TestIPQSOutageOpensBreaker(t *testing.T) {
	h := startBot(t, nil)
	h.ipqs.SetFault(503)

	// Failed calls count, retries included: the first lookup makes three,
	// and the breaker opens at the fifth, during the second lookup, which
	// then stops retrying.
	for i := range 2 {
		p := h.command(fmt.Sprintf("45.83.66.%d", i+1))
		if !strings.Contains(card(p), "not answering") {
			t.Fatalf("lookup %d during the outage:\n%s", i+1, card(p))
		}
	}
	calls := h.ipqs.TotalCalls()
	if calls != breaker.DefaultFailures {
		t.Errorf("IPQS calls before the breaker opened = %d, want %d", calls, breaker.DefaultFailures)
	}

	p := h.command("45.83.66.9")
	if !strings.Contains(card(p), "lookup service is unavailable") || !strings.Contains(card(p), "Retry in") {
		t.Errorf("reply with the breaker open does not say when to retry:\n%s", card(p))
	}
	if n := h.ipqs.TotalCalls(); n != calls {
		t.Errorf("IPQS calls with the breaker open = %d, want none", n-calls)
	}
}

func TestMentionDuringReconnectAnswered(t *testing.T) {
	h := startBot(t, nil)

	// Slack warns, then the socket drops; a mention sent meanwhile waits
	// for the next connection, as Slack holds or retries it.
	h.sim.Disconnect(slacksim.ReasonWarning)
	h.sim.DropConnection()
	ref := h.sim.Mention("C0RECONNECT", "U0RESPONDER", "is 185.220.101.4 bad?")

	if err := h.sim.WaitConnections(h.ctx, 2); err != nil {
		t.Fatalf("bot did not reconnect: %v", err)
	}
	p := h.waitPost(func(p slacksim.Post) bool { return p.Channel == "C0RECONNECT" })
	if p.ThreadTS != ref.TS {
		t.Errorf("thread = %q, want %q", p.ThreadTS, ref.TS)
	}
	if posts := h.quiet(); len(posts) != 1 {
		t.Errorf("posts = %d, want 1", len(posts))
	}
}
