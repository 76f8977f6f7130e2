package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipqsbot/ipqsbot/internal/ipqsfake"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// paste posts text in channel as a user and returns the bot's reply in the
// thread, or nil when the bot stays silent.
func (h *harness) paste(channel, text string, opts ...slacksim.MessageOption) *slacksim.Post {
	h.t.Helper()
	ref := h.sim.Message(channel, "U0PASTER", text, opts...)
	if _, err := h.sim.WaitAck(h.ctx, ref.EnvelopeID); err != nil {
		h.t.Fatalf("message not acknowledged: %v", err)
	}
	for _, p := range h.quiet() {
		if p.Channel == channel && p.ThreadTS == ref.TS {
			return &p
		}
	}
	return nil
}

// commandAs sends a slash command as user and returns the reply.
func (h *harness) commandAs(user, text string) slacksim.Post {
	h.t.Helper()
	id := h.sim.SlashCommand(slacksim.SlashCommand{Text: text, ChannelID: "C0INCIDENT", UserID: user})
	if _, err := h.sim.WaitAck(h.ctx, id); err != nil {
		h.t.Fatalf("command %q not acknowledged: %v", text, err)
	}
	return h.waitPost(func(p slacksim.Post) bool { return p.EnvelopeID == id })
}

func TestGuardSharedChannelNotEnrichedByDefault(t *testing.T) {
	h := startBot(t, nil)
	h.sim.SetExtShared("C0SHARED")

	if p := h.paste("C0SHARED", "https://phish.example.com/a"); p != nil {
		t.Errorf("pasted link in a Slack Connect channel enriched:\n%s", card(*p))
	}
	if p := h.paste("C0INTERNAL", "https://phish.example.com/b"); p == nil {
		t.Error("pasted link in an internal channel not enriched")
	}

	// A mention in the shared channel is a request and is answered.
	h.sim.Mention("C0SHARED", "U0RESPONDER", "check https://phish.example.com/c")
	h.waitPost(func(p slacksim.Post) bool { return p.Channel == "C0SHARED" })
}

func TestGuardSharedChannelAllowed(t *testing.T) {
	h := startBot(t, map[string]string{"AUTO_ENRICH_SHARED_CHANNELS": "true"})
	h.sim.SetExtShared("C0SHARED")
	if p := h.paste("C0SHARED", "https://phish.example.com/a"); p == nil {
		t.Error("AUTO_ENRICH_SHARED_CHANNELS=true: pasted link not enriched")
	}
}

func TestGuardAutoEnrichChannels(t *testing.T) {
	h := startBot(t, map[string]string{"AUTO_ENRICH_CHANNELS": "C0ALLOWED, C0ALSOTOO"})
	if p := h.paste("C0ALLOWED", "https://phish.example.com/a"); p == nil {
		t.Error("listed channel not enriched")
	}
	if p := h.paste("C0OTHER", "https://phish.example.com/b"); p != nil {
		t.Errorf("unlisted channel enriched:\n%s", card(*p))
	}
}

func TestGuardAutoEnrichOff(t *testing.T) {
	h := startBot(t, map[string]string{"AUTO_ENRICH_CHANNELS": "none"})
	if p := h.paste("C0CHANNEL", "https://phish.example.com/a"); p != nil {
		t.Errorf("AUTO_ENRICH_CHANNELS=none: pasted link enriched:\n%s", card(*p))
	}
	p := h.command("https://phish.example.com/a")
	if !strings.Contains(strings.ToLower(card(p)), "phishing") {
		t.Errorf("slash command does not work with auto-enrichment off:\n%s", card(p))
	}
}

func TestGuardMaxIndicators(t *testing.T) {
	h := startBot(t, map[string]string{"MAX_INDICATORS_AUTO": "2", "MAX_INDICATORS_REQUEST": "3"})

	p := h.paste("C0CHANNEL", "https://a.example.com/1 https://b.example.com/2 https://c.example.com/3")
	if p == nil {
		t.Fatal("pasted links not enriched")
	}
	if n := h.ipqs.TotalCalls(); n != 2 {
		t.Errorf("IPQS calls for a paste = %d, want MAX_INDICATORS_AUTO=2", n)
	}
	if !strings.Contains(card(*p), "over the limit of 2 lookups per message") {
		t.Errorf("reply does not say what was left out:\n%s", card(*p))
	}

	p2 := h.command("45.83.64.1 45.83.64.2 45.83.64.3 45.83.64.5 45.83.64.6")
	if n := h.ipqs.TotalCalls(); n != 5 {
		t.Errorf("IPQS calls after a request = %d, want 2 + MAX_INDICATORS_REQUEST=3", n)
	}
	if !strings.Contains(card(p2), "over the limit of 3 lookups per message") {
		t.Errorf("reply does not say what was left out:\n%s", card(p2))
	}
}

func TestGuardAllowedUsers(t *testing.T) {
	h := startBot(t, map[string]string{"ALLOWED_USERS": "U0ALLOWED"})

	p := h.commandAs("U0STRANGER", "185.220.101.4")
	if !strings.Contains(card(p), "ALLOWED_USERS") {
		t.Errorf("refusal does not name the admin setting:\n%s", card(p))
	}
	if n := h.ipqs.TotalCalls(); n != 0 {
		t.Errorf("IPQS calls for a refused user = %d, want 0", n)
	}
	if p := h.paste("C0CHANNEL", "https://phish.example.com/x"); p != nil {
		t.Errorf("paste by a user outside the allowlist enriched:\n%s", card(*p))
	}

	p = h.commandAs("U0ALLOWED", "185.220.101.4")
	if !strings.Contains(card(p), "185.220.101[.]4") || h.ipqs.TotalCalls() != 1 {
		t.Errorf("allowed user not answered with a lookup:\n%s", card(p))
	}
	// Help is harmless and open to everyone.
	if p := h.commandAs("U0STRANGER", "help"); !strings.Contains(card(p), "/ipqs status") {
		t.Errorf("help refused:\n%s", card(p))
	}
}

func TestGuardAllowedUsergroups(t *testing.T) {
	h := startBot(t, map[string]string{"ALLOWED_USERGROUPS": "S0RESPONDERS"})
	h.sim.SetUsergroup("S0RESPONDERS", "U0MEMBER", "U0OTHERMEMBER")

	for i := range 3 {
		p := h.commandAs("U0MEMBER", fmt.Sprintf("45.83.64.%d", i+1))
		if strings.Contains(card(p), "not allowed") {
			t.Fatalf("group member refused:\n%s", card(p))
		}
	}
	p := h.commandAs("U0OUTSIDER", "45.83.64.9")
	if !strings.Contains(card(p), "ALLOWED_USERGROUPS") {
		t.Errorf("refusal does not name the admin setting:\n%s", card(p))
	}
	if n := h.sim.Calls(slacksim.MethodUsergroupMembers); n != 1 {
		t.Errorf("usergroups.users.list calls = %d, want 1 (membership cached)", n)
	}
}

func TestGuardExternalUsers(t *testing.T) {
	h := startBot(t, nil)
	h.sim.Mention("C0SHARED", "U0EXTERNAL", "is 185.220.101.4 bad?", slacksim.WithField("user_team", "T0OTHERORG"))
	p := h.waitPost(func(p slacksim.Post) bool { return p.Channel == "C0SHARED" })
	if !strings.Contains(card(p), "ALLOW_EXTERNAL_USERS") {
		t.Errorf("external user not refused with the admin setting named:\n%s", card(p))
	}
	if n := h.ipqs.TotalCalls(); n != 0 {
		t.Errorf("IPQS calls for an external user = %d, want 0", n)
	}
}

func TestGuardExternalUsersAllowed(t *testing.T) {
	h := startBot(t, map[string]string{"ALLOW_EXTERNAL_USERS": "true"})
	h.sim.Mention("C0SHARED", "U0EXTERNAL", "is 185.220.101.4 bad?", slacksim.WithField("user_team", "T0OTHERORG"))
	p := h.waitPost(func(p slacksim.Post) bool { return p.Channel == "C0SHARED" })
	if strings.Contains(card(p), "not allowed") || h.ipqs.TotalCalls() != 1 {
		t.Errorf("ALLOW_EXTERNAL_USERS=true: external user not answered:\n%s", card(p))
	}
}

func TestGuardUserLookupLimit(t *testing.T) {
	h := startBot(t, map[string]string{"USER_LOOKUP_LIMIT": "2/m"})

	h.commandAs("U0BUSY", "45.83.64.1")
	h.commandAs("U0BUSY", "45.83.64.2")
	p := h.commandAs("U0BUSY", "45.83.64.3")
	if !strings.Contains(card(p), "2 per minute") || !strings.Contains(strings.ToLower(card(p)), "try again") {
		t.Errorf("third lookup not refused with the limit and a retry time:\n%s", card(p))
	}
	if n := h.ipqs.Calls("ip", "45.83.64.3"); n != 0 {
		t.Errorf("IPQS calls past the limit = %d, want 0", n)
	}

	// Cache hits never count, and other users have their own limit.
	if p := h.commandAs("U0BUSY", "45.83.64.1"); strings.Contains(card(p), "per minute") {
		t.Errorf("cache hit counted against the limit:\n%s", card(p))
	}
	if p := h.commandAs("U0CALM", "45.83.64.3"); strings.Contains(card(p), "per minute") {
		t.Errorf("another user limited:\n%s", card(p))
	}
}

func TestGuardWorkspaceLimit(t *testing.T) {
	h := startBot(t, map[string]string{"LOOKUP_LIMIT_PER_MINUTE": "2"})
	h.commandAs("U0A0000001", "45.83.64.1")
	h.commandAs("U0B0000002", "45.83.64.2")
	p := h.commandAs("U0C0000003", "45.83.64.3")
	if !strings.Contains(card(p), "per minute") {
		t.Errorf("workspace limit not applied:\n%s", card(p))
	}
	if n := h.ipqs.TotalCalls(); n != 2 {
		t.Errorf("IPQS calls = %d, want 2", n)
	}
}

func TestGuardCreditWarning(t *testing.T) {
	h := startBot(t, map[string]string{"ADMIN_CHANNEL": "C0ADMINS", "CREDIT_WARN_AT": "20%,1000"})

	h.command("status") // the first reading, 4,999,762 credits, is the baseline
	h.ipqs.Respond("account", "", ipqsfake.Response{Body: `{"success":true,"message":"Success","credits":900,"usage":5000,"request_id":"acct2"}`})
	p := h.command("status")
	if !strings.Contains(card(p), "900") {
		t.Fatalf("status does not show the new reading:\n%s", card(p))
	}

	warning := h.waitPost(func(p slacksim.Post) bool { return p.Channel == "C0ADMINS" })
	if !strings.Contains(card(warning), "900") {
		t.Errorf("warning does not give the credits left:\n%s", card(warning))
	}
	if warning.ThreadTS != "" {
		t.Errorf("warning posted in a thread %q, want the channel itself", warning.ThreadTS)
	}
	h.command("status")
	admin := 0
	for _, p := range h.quiet() {
		if p.Channel == "C0ADMINS" {
			admin++
		}
	}
	// Both thresholds are crossed at once; each warns once, never again.
	if admin == 0 || admin > 2 {
		t.Errorf("admin warnings = %d, want one per threshold crossed and no repeats", admin)
	}
}

func TestGuardNeverSent(t *testing.T) {
	h := startBot(t, map[string]string{"NEVER_LOOKUP_DOMAINS": "corp.example.com"})

	tests := []struct {
		text   string
		reason string
	}{
		{"https://wiki.corp.example.com/incident/42", "NEVER_LOOKUP_DOMAINS"},
		{"https://build.internal/job/7", "internal host name"},
		{"http://fileserver.lan/share", "internal host name"},
		{"http://printer.home.arpa/", "internal host name"},
		{"http://localhost:8080/admin", ""},
		{"https://app.slack.com/client/T1/C1", ""},
		{"10.1.2.3", "private"},
		{"::ffff:192.168.1.1", "private"},
		{"fe80::1%eth0", "link-local"},
		{"100.64.1.1", "shared"},
		{"admin@intranet.corp.example.com", "NEVER_LOOKUP_DOMAINS"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			p := h.command(tt.text)
			if tt.reason != "" && !strings.Contains(card(p), tt.reason) {
				t.Errorf("reply does not give the reason %q:\n%s", tt.reason, card(p))
			}
		})
	}
	if n := h.ipqs.TotalCalls(); n != 0 {
		t.Errorf("IPQS calls = %d, want 0: none of these may leave the workspace", n)
	}
}

func TestGuardURLSecretsNotSentUnasked(t *testing.T) {
	h := startBot(t, nil)

	p := h.paste("C0CHANNEL", "reset link: https://evil.example.com/reset?token=s3cr3t#step2")
	if p == nil {
		t.Fatal("pasted link not enriched")
	}
	for _, r := range h.ipqs.Requests() {
		if strings.Contains(r.Query.Get("url"), "s3cr3t") || strings.Contains(r.Query.Get("url"), "step2") {
			t.Errorf("unasked lookup sent the query or fragment: %s", r.Query.Get("url"))
		}
	}
	if h.ipqs.Calls("url", "https://evil.example.com/reset") != 1 {
		t.Errorf("IPQS did not get scheme, host and path only")
	}
	if !strings.Contains(card(*p), "without its query and fragment") {
		t.Errorf("card does not say what was sent:\n%s", card(*p))
	}

	// An explicit request sends the URL as given, minus credentials.
	h.command("https://user:pw@evil.example.com/reset?token=s3cr3t")
	if h.ipqs.Calls("url", "https://evil.example.com/reset?token=s3cr3t") != 1 {
		t.Errorf("explicit request did not send the URL with its query")
	}
}

func TestGuardHostileTextNeverPings(t *testing.T) {
	h := startBot(t, nil)
	h.ipqs.Respond("url", "https://evil.example.com/%3C!channel%3E", ipqsfake.Response{
		Body: `{"success":true,"message":"Success","risk_score":100,"phishing":true,"unsafe":true,"page_title":"<!channel> <@U0CEO> click <https://evil.example.com|here> & win","server":"<!here>","domain":"evil.example.com","request_id":"hostile1"}`,
	})

	p := h.command("https://evil.example.com/<!channel> <@U0CEO>")
	assertSafeCard(t, p, "https://evil.example.com")
	for _, markup := range []string{"<!channel>", "<!here>", "<@U0CEO>"} {
		if strings.Contains(card(p), markup) {
			t.Errorf("reply contains %q unescaped:\n%s", markup, card(p))
		}
	}
}

func TestGuardAuditLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	h := startBot(t, map[string]string{"AUDIT_LOG": path})

	h.commandAs("U0AUDITED", "185.220.101.4 10.0.0.1")
	h.commandAs("U0AUDITED", "185.220.101.4")
	h.shutdown()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecrets(t, "audit log", string(data))
	var records []map[string]any
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line is not JSON: %v\n%s", err, sc.Text())
		}
		records = append(records, r)
	}
	if len(records) != 3 {
		t.Fatalf("audit records = %d, want 3 (two lookups and one skipped address):\n%v", len(records), records)
	}
	var lookups []map[string]any
	for _, r := range records {
		switch r["indicator"] {
		case "185.220.101.4":
			lookups = append(lookups, r)
		case "10.0.0.1":
			if r["outcome"] != "skipped" || r["detail"] != "private address" {
				t.Errorf("private address record = %v, want skipped with the reason", r)
			}
		default:
			t.Errorf("unexpected record %v", r)
		}
	}
	if len(lookups) != 2 {
		t.Fatalf("lookup records = %d, want 2", len(lookups))
	}
	first := lookups[0]
	for _, field := range []string{"time", "team", "channel", "user", "entry", "kind", "indicator", "cache", "verdict", "request_id"} {
		if _, ok := first[field]; !ok {
			t.Errorf("audit record lacks %q: %v", field, first)
		}
	}
	if first["user"] != "U0AUDITED" || first["entry"] != "command" || first["cache"] != "miss" || first["verdict"] != "abusive" {
		t.Errorf("first record = %v", first)
	}
	if lookups[1]["cache"] != "hit" {
		t.Errorf("repeated lookup recorded as cache %v, want hit", lookups[1]["cache"])
	}
}

func TestGuardBadInputAnswered(t *testing.T) {
	h := startBot(t, map[string]string{"USER_LOOKUP_LIMIT": "unlimited", "LOOKUP_LIMIT_PER_MINUTE": "0"})

	var many []string
	for i := range 300 {
		many = append(many, fmt.Sprintf("45.%d.%d.7", 80+i/250, i%250))
	}
	long := strings.Join(many, " ")
	if len(long) > 4000 {
		long = long[:strings.LastIndexByte(long[:4000], ' ')]
	}

	tests := []struct {
		name string
		text string
		want []string
	}{
		{"4000 characters of indicators", long, []string{"over the limit of 50 lookups per message"}},
		{"rtl override in a domain", "https://evil\u202Emoc.example.com/x", []string{"evilmoc.example[.]com"}},
		{"zero-width joiner in a domain", "ex\u200Dample.com", []string{"example[.]com"}},
		{"homoglyph domain", "pаypal.com", []string{"xn--", "mixes scripts"}},
		{"ipv6 with zone", "2a00:1450:4001:81c::200e%eth0", []string{"2a00:1450:4001:81c::200e"}},
		{"ipv4-mapped private", "::ffff:10.9.8.7", []string{"private"}},
		{"zero-padded ipv4", "0177.0.0.1", []string{"177.0.0[.]1"}},
		{"hex ipv4", "ip 0x7f.1", []string{"not an IP address"}},
		{"javascript url", "url javascript:alert(document.cookie)", []string{"javascript"}},
		{"data url", "url data:text/html;base64,PHNjcmlwdD4=", []string{"data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := h.command(tt.text)
			for _, want := range tt.want {
				if !strings.Contains(card(p), want) {
					t.Errorf("reply lacks %q:\n%s", want, card(p))
				}
			}
			assertSafeCard(t, p)
		})
	}

	// A 40,000-character pasted message is answered too, in its thread.
	big := strings.Repeat("lorem ipsum dolor sit amet ", 1500) + " https://phish.example.com/big"
	if len(big) < 40000 {
		t.Fatalf("test message is %d characters", len(big))
	}
	if p := h.paste("C0CHANNEL", big); p == nil {
		t.Error("40,000-character message not answered")
	}
}

func TestGuardLimitUnderPastedLinkIsNotPersonal(t *testing.T) {
	h := startBot(t, map[string]string{"USER_LOOKUP_LIMIT": "1/m"})

	p := h.paste("C0CHANNEL", "https://phish.example.com/one and https://phish.example.com/two")
	if p == nil {
		t.Fatal("pasted links not enriched")
	}
	if !strings.Contains(card(*p), "lookup limit reached") {
		t.Errorf("the link past the limit is not listed as not looked up:\n%s", card(*p))
	}
	if strings.Contains(card(*p), "USER_LOOKUP_LIMIT") || strings.Contains(card(*p), "You have reached") {
		t.Errorf("a user's limit card was posted in the channel thread:\n%s", card(*p))
	}
}
