package config

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

const (
	appToken = "xapp-1-A111-222-secretapp"
	botToken = "xoxb-111-222-secretbot"
	ipqsKey  = "abcdefghijklmnopqrstuvwxyz012345"
)

func envOf(vars map[string]string) Lookup {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func validEnv() map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN": appToken,
		"SLACK_BOT_TOKEN": botToken,
		"IPQS_API_KEY":    ipqsKey,
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Load(envOf(validEnv()), NeedAll)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	if cfg.SlackAppToken.Reveal() != appToken || cfg.SlackBotToken.Reveal() != botToken || cfg.IPQSKey.Reveal() != ipqsKey {
		t.Error("credentials not read as given")
	}
	if cfg.SlackAPIURL != DefaultSlackAPIURL {
		t.Errorf("SlackAPIURL = %q, want %q", cfg.SlackAPIURL, DefaultSlackAPIURL)
	}
	if cfg.IPQSBaseURL != ipqs.DefaultBaseURL {
		t.Errorf("IPQSBaseURL = %q, want %q", cfg.IPQSBaseURL, ipqs.DefaultBaseURL)
	}
	for _, k := range []ipqs.Kind{ipqs.KindIP, ipqs.KindURL, ipqs.KindEmail} {
		if cfg.CacheTTL[k] != 6*time.Hour {
			t.Errorf("CacheTTL[%s] = %v, want 6h", k, cfg.CacheTTL[k])
		}
	}
	if cfg.LogLevel != slog.LevelInfo || cfg.LogFormat != "json" {
		t.Errorf("log = %v %q, want info json", cfg.LogLevel, cfg.LogFormat)
	}
	if got := cfg.AutoEnrichKinds; len(got) != 2 || got[0] != indicator.KindURL || got[1] != indicator.KindDomain {
		t.Errorf("AutoEnrichKinds = %v, want [url domain]", got)
	}
}

func TestLoadOverrides(t *testing.T) {
	env := validEnv()
	env["SLACK_API_URL"] = "http://127.0.0.1:8080/api"
	env["IPQS_BASE_URL"] = "https://ipqs.example.com/api/json/"
	env["CACHE_TTL"] = "1h"
	env["CACHE_TTL_EMAIL"] = "30m"
	env["LOG_LEVEL"] = "DEBUG"
	env["LOG_FORMAT"] = "text"
	env["AUTO_ENRICH_KINDS"] = " ip , email,ip,"

	cfg, err := Load(envOf(env), NeedAll)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	if cfg.SlackAPIURL != "http://127.0.0.1:8080/api/" {
		t.Errorf("SlackAPIURL = %q, want a trailing slash added", cfg.SlackAPIURL)
	}
	if cfg.CacheTTL[ipqs.KindIP] != time.Hour || cfg.CacheTTL[ipqs.KindEmail] != 30*time.Minute {
		t.Errorf("CacheTTL = %v, want ip 1h and email 30m", cfg.CacheTTL)
	}
	if cfg.LogLevel != slog.LevelDebug || cfg.LogFormat != "text" {
		t.Errorf("log = %v %q, want debug text", cfg.LogLevel, cfg.LogFormat)
	}
	if got := cfg.AutoEnrichKinds; len(got) != 2 || got[0] != indicator.KindIP || got[1] != indicator.KindEmail {
		t.Errorf("AutoEnrichKinds = %v, want [ip email]", got)
	}
}

func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"missing app token", map[string]string{"SLACK_APP_TOKEN": ""}, "SLACK_APP_TOKEN is missing"},
		{"missing bot token", map[string]string{"SLACK_BOT_TOKEN": "  "}, "SLACK_BOT_TOKEN is missing"},
		{"missing key", map[string]string{"IPQS_API_KEY": ""}, "IPQS_API_KEY is missing"},
		{"bot token as app token", map[string]string{"SLACK_APP_TOKEN": botToken}, "SLACK_APP_TOKEN is invalid: it holds a bot token (xoxb-…)"},
		{"app token as bot token", map[string]string{"SLACK_BOT_TOKEN": appToken}, "SLACK_BOT_TOKEN is invalid: it holds an app-level token"},
		{"key with space", map[string]string{"IPQS_API_KEY": "abc def"}, "IPQS_API_KEY is invalid"},
		{"value and file", map[string]string{"IPQS_API_KEY_FILE": "/nonexistent"}, "IPQS_API_KEY and IPQS_API_KEY_FILE are both set"},
		{"http api url", map[string]string{"SLACK_API_URL": "http://slack.example.com/api/"}, "SLACK_API_URL is invalid"},
		{"relative base url", map[string]string{"IPQS_BASE_URL": "ipqs/api"}, "IPQS_BASE_URL is invalid"},
		{"url with password", map[string]string{"IPQS_BASE_URL": "https://user:hunter2@ipqs.example.com/"}, "IPQS_BASE_URL is invalid"},
		{"bad ttl", map[string]string{"CACHE_TTL": "6 hours"}, "CACHE_TTL is invalid: \"6 hours\" is not a positive Go duration; use a form like 6h"},
		{"negative ttl", map[string]string{"CACHE_TTL_IP": "-1h"}, "CACHE_TTL_IP is invalid"},
		{"bad level", map[string]string{"LOG_LEVEL": "verbose"}, "LOG_LEVEL is invalid: \"verbose\"; use one of debug, info, warn, error"},
		{"bad format", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT is invalid"},
		{"bad kind", map[string]string{"AUTO_ENRICH_KINDS": "url,hash"}, "AUTO_ENRICH_KINDS is invalid: unknown kind \"hash\""},
		{"bad channel id", map[string]string{"AUTO_ENRICH_CHANNELS": "C0123ABCD,#incidents"}, "AUTO_ENRICH_CHANNELS is invalid: \"#incidents\" is not a channel ID; use a comma-separated list of channel IDs such as C0123ABCD"},
		{"user id in usergroups", map[string]string{"ALLOWED_USERGROUPS": "U0123ABCD"}, "ALLOWED_USERGROUPS is invalid: \"U0123ABCD\""},
		{"name in users", map[string]string{"ALLOWED_USERS": "@alice"}, "ALLOWED_USERS is invalid: \"@alice\" is not a user ID; use a comma-separated list of user IDs such as U0123ABCD"},
		{"bad bool", map[string]string{"ALLOW_EXTERNAL_USERS": "yes please"}, "ALLOW_EXTERNAL_USERS is invalid: \"yes please\"; use true or false"},
		{"zero max", map[string]string{"MAX_INDICATORS_AUTO": "0"}, "MAX_INDICATORS_AUTO is invalid: \"0\"; use a whole number of 1 or more, such as 10"},
		{"bad user limit", map[string]string{"USER_LOOKUP_LIMIT": "30 per minute"}, "USER_LOOKUP_LIMIT is invalid"},
		{"negative minute limit", map[string]string{"LOOKUP_LIMIT_PER_MINUTE": "-5"}, "LOOKUP_LIMIT_PER_MINUTE is invalid: \"-5\"; use a whole number such as 300, or 0 or unlimited"},
		{"two admin channels", map[string]string{"ADMIN_CHANNEL": "C0123ABCD,C0456EFGH"}, "ADMIN_CHANNEL is invalid: give one channel ID"},
		{"admin channel name", map[string]string{"ADMIN_CHANNEL": "#security"}, "ADMIN_CHANNEL is invalid: \"#security\" is not a channel ID; use one channel ID such as C0123ABCD"},
		{"lower-case channel id", map[string]string{"AUTO_ENRICH_CHANNELS": "c0123abcd"}, "is not a channel ID"},
		{"bad warn level", map[string]string{"CREDIT_WARN_AT": "20%,lots"}, "CREDIT_WARN_AT is invalid"},
		{"bad never domain", map[string]string{"NEVER_LOOKUP_DOMAINS": "corp.example.com,not a domain"}, "NEVER_LOOKUP_DOMAINS is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := validEnv()
			for k, v := range tt.set {
				env[k] = v
			}

			_, err := Load(envOf(env), NeedAll)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			for _, s := range []string{appToken, botToken, ipqsKey, "hunter2"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error leaks a secret: %q", err)
				}
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(envOf(map[string]string{"LOG_LEVEL": "loud"}), NeedAll)
	if err == nil {
		t.Fatal("Load succeeded with no credentials")
	}
	for _, name := range []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "IPQS_API_KEY", "LOG_LEVEL"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %q", name, err)
		}
	}
}

func TestLoadIPQSOnly(t *testing.T) {
	cfg, err := Load(envOf(map[string]string{"IPQS_API_KEY": ipqsKey}), NeedIPQS)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !cfg.SlackAppToken.IsZero() {
		t.Error("NeedIPQS read a Slack token")
	}
}

func TestLoadSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	if err := os.WriteFile(path, []byte(ipqsKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := validEnv()
	delete(env, "IPQS_API_KEY")
	env["IPQS_API_KEY_FILE"] = path

	cfg, err := Load(envOf(env), NeedAll)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.IPQSKey.Reveal() != ipqsKey {
		t.Error("key from file not read, or its newline kept")
	}

	env["IPQS_API_KEY_FILE"] = filepath.Join(dir, "missing")
	if _, err := Load(envOf(env), NeedAll); err == nil || !strings.Contains(err.Error(), "IPQS_API_KEY_FILE: cannot read the file") {
		t.Errorf("missing file: error = %v", err)
	}
}

func TestWithDotEnv(t *testing.T) {
	dotenv := map[string]string{"IPQS_API_KEY": "from-file", "LOG_LEVEL": "debug"}
	read := func(string) (map[string]string, error) { return dotenv, nil }
	env := envOf(map[string]string{"IPQS_API_KEY": "from-env", "LOG_FORMAT": ""})

	lookup, err := WithDotEnv(env, ".env", read)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := lookup("IPQS_API_KEY"); v != "from-env" {
		t.Errorf("IPQS_API_KEY = %q, want the environment to win", v)
	}
	if v, _ := lookup("LOG_LEVEL"); v != "debug" {
		t.Errorf("LOG_LEVEL = %q, want the .env value", v)
	}

	missing := func(string) (map[string]string, error) { return nil, os.ErrNotExist }
	if _, err := WithDotEnv(env, ".env", missing); err != nil {
		t.Errorf("missing .env: %v, want no error", err)
	}
	broken := func(string) (map[string]string, error) { return nil, errors.New("unexpected character") }
	if _, err := WithDotEnv(env, ".env", broken); err == nil {
		t.Error("unreadable .env: want an error")
	}
}

func TestLoadGuardDefaults(t *testing.T) {
	cfg, err := Load(envOf(validEnv()), NeedAll)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AutoEnrichOff || len(cfg.AutoEnrichChannels) != 0 || cfg.AutoEnrichSharedChannels {
		t.Errorf("auto-enrichment defaults = off %v, channels %v, shared %v; want every channel the bot is in, except shared ones",
			cfg.AutoEnrichOff, cfg.AutoEnrichChannels, cfg.AutoEnrichSharedChannels)
	}
	if cfg.MaxIndicatorsAuto != 10 || cfg.MaxIndicatorsRequest != 50 {
		t.Errorf("max indicators = %d, %d; want 10, 50", cfg.MaxIndicatorsAuto, cfg.MaxIndicatorsRequest)
	}
	if cfg.UserLookupLimit.String() != "30 per minute" || cfg.LookupLimitPerMinute != 300 || cfg.LookupLimitPerDay != 0 {
		t.Errorf("limits = %s, %d, %d; want 30 per minute, 300, unlimited", cfg.UserLookupLimit, cfg.LookupLimitPerMinute, cfg.LookupLimitPerDay)
	}
	if len(cfg.CreditWarnAt) != 2 || cfg.AuditLog != "stderr" || cfg.AllowExternalUsers {
		t.Errorf("credit levels %v, audit log %q, external users %v", cfg.CreditWarnAt, cfg.AuditLog, cfg.AllowExternalUsers)
	}
}

func TestLoadGuardSettings(t *testing.T) {
	env := validEnv()
	env["AUTO_ENRICH_CHANNELS"] = " NONE "
	env["ALLOWED_USERS"] = "U0123ABCD, W0456EFGH"
	env["ALLOWED_USERGROUPS"] = "S0123ABCD"
	env["USER_LOOKUP_LIMIT"] = "unlimited"
	env["LOOKUP_LIMIT_PER_DAY"] = "5000"
	env["ADMIN_CHANNEL"] = "C0ADMIN01"
	env["CREDIT_WARN_AT"] = "10%, 2000"
	env["NEVER_LOOKUP_DOMAINS"] = "Corp.Example.COM., *.intra.example.net"
	env["AUDIT_LOG"] = "/var/log/ipqsbot/audit.jsonl"
	env["AUTO_ENRICH_SHARED_CHANNELS"] = "TRUE"

	cfg, err := Load(envOf(env), NeedAll)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.AutoEnrichOff {
		t.Error("AUTO_ENRICH_CHANNELS=none did not turn auto-enrichment off")
	}
	if len(cfg.AllowedUsers) != 2 || cfg.AllowedUsergroups[0] != "S0123ABCD" {
		t.Errorf("allowlists = %v, %v", cfg.AllowedUsers, cfg.AllowedUsergroups)
	}
	if !cfg.UserLookupLimit.Unlimited() || cfg.LookupLimitPerDay != 5000 {
		t.Errorf("limits = %s, %d", cfg.UserLookupLimit, cfg.LookupLimitPerDay)
	}
	if cfg.AdminChannel != "C0ADMIN01" || len(cfg.CreditWarnAt) != 2 {
		t.Errorf("admin channel %q, credit levels %v", cfg.AdminChannel, cfg.CreditWarnAt)
	}
	if len(cfg.NeverLookupDomains) != 2 || cfg.NeverLookupDomains[0] != "corp.example.com" || cfg.NeverLookupDomains[1] != "intra.example.net" {
		t.Errorf("NeverLookupDomains = %v", cfg.NeverLookupDomains)
	}
	if cfg.AuditLog != "/var/log/ipqsbot/audit.jsonl" {
		t.Errorf("AuditLog = %q", cfg.AuditLog)
	}
	if !cfg.AutoEnrichSharedChannels {
		t.Error("AUTO_ENRICH_SHARED_CHANNELS=TRUE not read as true")
	}

	env["AUDIT_LOG"] = "STDOUT"
	if cfg, err := Load(envOf(env), NeedAll); err != nil || cfg.AuditLog != "stdout" {
		t.Errorf("AUDIT_LOG=STDOUT read as %q, %v; want stdout", cfg.AuditLog, err)
	}
}

func TestLoadRedisAndCacheSize(t *testing.T) {
	cfg, err := Load(envOf(validEnv()), NeedAll)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !cfg.RedisURL.IsZero() || cfg.RedisURLRedacted != "" {
		t.Errorf("RedisURL set without REDIS_URL: %q", cfg.RedisURLRedacted)
	}
	if cfg.CacheMaxEntries != 100_000 {
		t.Errorf("CacheMaxEntries = %d, want 100000", cfg.CacheMaxEntries)
	}

	env := validEnv()
	env["REDIS_URL"] = "rediss://:pw-7c1e@cache.example:6380/2"
	env["CACHE_MAX_ENTRIES"] = "5000"
	cfg, err = Load(envOf(env), NeedAll)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.RedisURL.Reveal() != env["REDIS_URL"] {
		t.Errorf("RedisURL = %q, want %q", cfg.RedisURL.Reveal(), env["REDIS_URL"])
	}
	if strings.Contains(cfg.RedisURLRedacted, "pw-7c1e") || !strings.Contains(cfg.RedisURLRedacted, "cache.example:6380") {
		t.Errorf("RedisURLRedacted = %q, want the host without the password", cfg.RedisURLRedacted)
	}
	if cfg.CacheMaxEntries != 5000 {
		t.Errorf("CacheMaxEntries = %d, want 5000", cfg.CacheMaxEntries)
	}
}

func TestLoadInvalidRedisURL(t *testing.T) {
	for _, value := range []string{
		"http://:pw-7c1e@127.0.0.1:6379/0",
		"redis://:pw-7c1e@127.0.0.1:6379/notadb",
		"127.0.0.1:6379",
	} {
		env := validEnv()
		env["REDIS_URL"] = value
		_, err := Load(envOf(env), NeedAll)
		if err == nil {
			t.Errorf("REDIS_URL=%s: Load accepted it", value)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "REDIS_URL is invalid") || !strings.Contains(msg, "redis://127.0.0.1:6379/0") {
			t.Errorf("REDIS_URL=%s: error %q does not name the variable and a valid form", value, msg)
		}
		if strings.Contains(msg, "pw-7c1e") {
			t.Errorf("REDIS_URL=%s: error contains the password: %q", value, msg)
		}
	}
}

func TestLoadInvalidCacheMaxEntries(t *testing.T) {
	for _, value := range []string{"0", "-5", "lots"} {
		env := validEnv()
		env["CACHE_MAX_ENTRIES"] = value
		_, err := Load(envOf(env), NeedAll)
		if err == nil || !strings.Contains(err.Error(), "CACHE_MAX_ENTRIES is invalid") {
			t.Errorf("CACHE_MAX_ENTRIES=%s: err = %v, want it named as invalid", value, err)
		}
	}
}

func TestMemoryLimitFollowsCacheSize(t *testing.T) {
	cfg, err := Load(envOf(validEnv()), NeedAll)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := cfg.MemoryLimit(), int64(32<<20+100_000<<10); got != want {
		t.Errorf("MemoryLimit() = %d, want %d for the default cache size", got, want)
	}

	env := validEnv()
	env["CACHE_MAX_ENTRIES"] = "1000000"
	if cfg, err = Load(envOf(env), NeedAll); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := cfg.MemoryLimit(), int64(32<<20+1_000_000<<10); got != want {
		t.Errorf("MemoryLimit() = %d, want %d for 1,000,000 entries", got, want)
	}
}

func TestLoadWorkers(t *testing.T) {
	cfg, err := Load(envOf(validEnv()), NeedAll)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Workers != 64 {
		t.Errorf("Workers = %d, want the default 64", cfg.Workers)
	}

	env := validEnv()
	env["WORKERS"] = "8"
	if cfg, err = Load(envOf(env), NeedAll); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Workers != 8 {
		t.Errorf("Workers = %d, want 8", cfg.Workers)
	}

	for _, value := range []string{"0", "-1", "many", "1025"} {
		env["WORKERS"] = value
		_, err := Load(envOf(env), NeedAll)
		if err == nil || !strings.Contains(err.Error(), "WORKERS is invalid") {
			t.Errorf("WORKERS=%s: err = %v, want it named as invalid", value, err)
		}
	}
}

func TestLoadMetricsAddr(t *testing.T) {
	cases := []struct {
		value, want string
	}{
		{"", "127.0.0.1:9090"},
		{"0.0.0.0:9090", "0.0.0.0:9090"},
		{"[::1]:0", "[::1]:0"},
		{":65535", ":65535"},
		{"none", ""},
		{"NONE", ""},
	}
	for _, tc := range cases {
		env := validEnv()
		env["METRICS_ADDR"] = tc.value
		cfg, err := Load(envOf(env), NeedAll)
		if err != nil {
			t.Errorf("METRICS_ADDR=%q: Load: %v", tc.value, err)
			continue
		}
		if cfg.MetricsAddr != tc.want {
			t.Errorf("METRICS_ADDR=%q: MetricsAddr = %q, want %q", tc.value, cfg.MetricsAddr, tc.want)
		}
	}
}

func TestLoadInvalidMetricsAddr(t *testing.T) {
	for _, value := range []string{"9090", "127.0.0.1", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", "127.0.0.1:"} {
		env := validEnv()
		env["METRICS_ADDR"] = value
		_, err := Load(envOf(env), NeedAll)
		if err == nil {
			t.Errorf("METRICS_ADDR=%s: Load accepted it", value)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "METRICS_ADDR is invalid") || !strings.Contains(msg, "127.0.0.1:9090") {
			t.Errorf("METRICS_ADDR=%s: error %q does not name the variable and a valid form", value, msg)
		}
	}
}
