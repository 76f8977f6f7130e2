// Package config reads ipqsbot's settings from environment variables, with a
// .env file as a fallback, and validates them before anything starts.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ipqsbot/ipqsbot/cache"
	"github.com/ipqsbot/ipqsbot/guard"
	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/internal/secret"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// Defaults for optional settings.
const (
	DefaultSlackAPIURL = "https://slack.com/api/"
	DefaultCacheTTL    = 6 * time.Hour
	// DefaultMetricsAddr is on loopback, so metrics and health endpoints are
	// reachable from outside the host only when an operator says so.
	DefaultMetricsAddr = "127.0.0.1:9090"
	// DefaultWorkers matches the bot package's default worker count.
	DefaultWorkers = 64
	// MaxWorkers bounds WORKERS.
	MaxWorkers = 1024
)

// DefaultAutoEnrichKinds are the kinds enriched in channels without a request.
var DefaultAutoEnrichKinds = []indicator.Kind{indicator.KindURL, indicator.KindDomain}

// Config is the validated configuration of the bot.
type Config struct {
	SlackAppToken secret.Value
	SlackBotToken secret.Value
	IPQSKey       secret.Value

	// SlackAPIURL is the Web API root and ends in "/".
	SlackAPIURL string
	// IPQSBaseURL is the IPQualityScore JSON API root and ends in "/".
	IPQSBaseURL string

	// CacheTTL is how long a result is kept, by lookup API.
	CacheTTL map[ipqs.Kind]time.Duration
	// CacheMaxEntries bounds the results kept in process memory.
	CacheMaxEntries int

	// Workers is the number of requests handled at once.
	Workers int

	// RedisURL, when set, is the redis:// or rediss:// URL of the store
	// that replicas share; it may hold a password. RedisURLRedacted is the
	// same URL with the password hidden, for logs.
	RedisURL         secret.Value
	RedisURLRedacted string

	LogLevel  slog.Level
	LogFormat string

	// AutoEnrichKinds are the kinds looked up in pasted messages unasked.
	AutoEnrichKinds []indicator.Kind
	// AutoEnrichOff is AUTO_ENRICH_CHANNELS=none.
	AutoEnrichOff bool
	// AutoEnrichChannels, when not empty, are the only channels enriched
	// unasked.
	AutoEnrichChannels []string
	// AutoEnrichSharedChannels allows unasked enrichment in Slack Connect
	// channels.
	AutoEnrichSharedChannels bool
	// MaxIndicatorsAuto and MaxIndicatorsRequest cap the lookups of one
	// pasted message and of one request.
	MaxIndicatorsAuto    int
	MaxIndicatorsRequest int

	// AllowedUsers and AllowedUsergroups, when either is set, are the only
	// users who may run lookups.
	AllowedUsers      []string
	AllowedUsergroups []string
	// AllowExternalUsers lets users of other organisations in Slack Connect
	// channels run lookups.
	AllowExternalUsers bool

	// UserLookupLimit bounds each user's IPQS calls; the zero Rate means
	// unlimited.
	UserLookupLimit guard.Rate
	// LookupLimitPerMinute and LookupLimitPerDay bound IPQS calls across
	// the workspace; 0 means unlimited.
	LookupLimitPerMinute int
	LookupLimitPerDay    int

	// AdminChannel receives credit warnings; empty means none are sent.
	AdminChannel string
	// CreditWarnAt are the credit levels that trigger a warning.
	CreditWarnAt []guard.Threshold

	// NeverLookupDomains are never sent to IPQS, nor their subdomains.
	NeverLookupDomains []string

	// AuditLog is "stderr", "stdout" or a file path.
	AuditLog string

	// MetricsAddr is the host:port of the metrics and health endpoints;
	// empty means METRICS_ADDR=none, so there is no listener.
	MetricsAddr string
}

// Defaults of the guard settings.
const (
	DefaultMaxIndicatorsAuto    = 10
	DefaultMaxIndicatorsRequest = 50
	DefaultUserLookupLimit      = "30/m"
	DefaultLookupLimitPerMinute = 300
	DefaultCreditWarnAt         = "20%,5%"
)

// Forms of Slack IDs: an upper-case letter for the kind, then upper-case
// letters and digits.
var (
	channelIDForm   = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)
	userIDForm      = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	usergroupIDForm = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
)

// Lookup returns the value of an environment variable and whether it is set.
// os.LookupEnv has this signature.
type Lookup func(name string) (string, bool)

// WithDotEnv returns a Lookup that reads env first and then the variables of
// the .env file at path, so the environment wins. A missing file is not an
// error.
func WithDotEnv(env Lookup, path string, read func(string) (map[string]string, error)) (Lookup, error) {
	vars, err := read(path)
	if errors.Is(err, os.ErrNotExist) {
		return env, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return func(name string) (string, bool) {
		if v, ok := env(name); ok && v != "" {
			return v, true
		}
		v, ok := vars[name]
		return v, ok
	}, nil
}

// Need selects the credentials a command requires.
type Need int

// The credential sets.
const (
	// NeedAll is for running the bot: Slack tokens and the IPQS key.
	NeedAll Need = iota
	// NeedIPQS is for the lookup command: the IPQS key only.
	NeedIPQS
)

// Load reads and validates the configuration. The error lists every invalid
// variable, each with a valid form, and never contains a secret's value.
func Load(env Lookup, need Need) (*Config, error) {
	r := reader{env: env}
	cfg := &Config{
		CacheTTL: make(map[ipqs.Kind]time.Duration),
	}

	cfg.IPQSKey = r.secret("IPQS_API_KEY", "the API key from the IPQualityScore account settings", checkIPQSKey)
	if need == NeedAll {
		cfg.SlackAppToken = r.secret("SLACK_APP_TOKEN", "an app-level token (xapp-…) with the connections:write scope", checkAppToken)
		cfg.SlackBotToken = r.secret("SLACK_BOT_TOKEN", "the bot token (xoxb-…) from the app's OAuth & Permissions page", checkBotToken)
	}

	cfg.SlackAPIURL = r.apiURL("SLACK_API_URL", DefaultSlackAPIURL)
	cfg.IPQSBaseURL = r.apiURL("IPQS_BASE_URL", ipqs.DefaultBaseURL)

	ttl := r.duration("CACHE_TTL", DefaultCacheTTL)
	cfg.CacheTTL[ipqs.KindIP] = r.duration("CACHE_TTL_IP", ttl)
	cfg.CacheTTL[ipqs.KindURL] = r.duration("CACHE_TTL_URL", ttl)
	cfg.CacheTTL[ipqs.KindEmail] = r.duration("CACHE_TTL_EMAIL", ttl)
	cfg.CacheMaxEntries = r.positive("CACHE_MAX_ENTRIES", cache.DefaultMaxEntries)
	cfg.RedisURL, cfg.RedisURLRedacted = r.redisURL("REDIS_URL")
	cfg.Workers = r.between("WORKERS", DefaultWorkers, 1, MaxWorkers)

	cfg.LogLevel = r.logLevel("LOG_LEVEL")
	cfg.LogFormat = r.oneOf("LOG_FORMAT", "json", []string{"json", "text"})
	cfg.AutoEnrichKinds = r.kinds("AUTO_ENRICH_KINDS", DefaultAutoEnrichKinds)
	if strings.EqualFold(r.get("AUTO_ENRICH_CHANNELS"), "none") {
		cfg.AutoEnrichOff = true
	} else {
		cfg.AutoEnrichChannels = r.ids("AUTO_ENRICH_CHANNELS", channelIDForm, "a channel ID", "a comma-separated list of channel IDs such as C0123ABCD (from the channel's details in Slack), or none")
	}
	cfg.AutoEnrichSharedChannels = r.boolean("AUTO_ENRICH_SHARED_CHANNELS")
	cfg.MaxIndicatorsAuto = r.positive("MAX_INDICATORS_AUTO", DefaultMaxIndicatorsAuto)
	cfg.MaxIndicatorsRequest = r.positive("MAX_INDICATORS_REQUEST", DefaultMaxIndicatorsRequest)

	cfg.AllowedUsers = r.ids("ALLOWED_USERS", userIDForm, "a user ID", "a comma-separated list of user IDs such as U0123ABCD (from a profile's ⋮ menu, Copy member ID)")
	cfg.AllowedUsergroups = r.ids("ALLOWED_USERGROUPS", usergroupIDForm, "a user-group ID", "a comma-separated list of user-group IDs such as S0123ABCD")
	cfg.AllowExternalUsers = r.boolean("ALLOW_EXTERNAL_USERS")

	cfg.UserLookupLimit = r.rate("USER_LOOKUP_LIMIT", DefaultUserLookupLimit)
	cfg.LookupLimitPerMinute = r.limit("LOOKUP_LIMIT_PER_MINUTE", DefaultLookupLimitPerMinute)
	cfg.LookupLimitPerDay = r.limit("LOOKUP_LIMIT_PER_DAY", 0)

	if ids := r.ids("ADMIN_CHANNEL", channelIDForm, "a channel ID", "one channel ID such as C0123ABCD (from the channel's details in Slack)"); len(ids) > 1 {
		r.fail("ADMIN_CHANNEL is invalid: give one channel ID such as C0123ABCD")
	} else if len(ids) == 1 {
		cfg.AdminChannel = ids[0]
	}
	cfg.CreditWarnAt = r.thresholds("CREDIT_WARN_AT", DefaultCreditWarnAt)
	cfg.NeverLookupDomains = r.domains("NEVER_LOOKUP_DOMAINS")
	cfg.AuditLog = r.get("AUDIT_LOG")
	switch strings.ToLower(cfg.AuditLog) {
	case "", "stderr":
		cfg.AuditLog = "stderr"
	case "stdout":
		cfg.AuditLog = "stdout"
	}

	cfg.MetricsAddr = r.listenAddr("METRICS_ADDR", DefaultMetricsAddr)

	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return cfg, nil
}

// reader collects every problem instead of stopping at the first, so one
// start shows the operator all that needs fixing.
type reader struct {
	env  Lookup
	errs []error
}

func (r *reader) fail(format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf(format, args...))
}

// get returns the trimmed value of name; an empty value counts as unset.
func (r *reader) get(name string) string {
	v, _ := r.env(name)
	return strings.TrimSpace(v)
}

// secret reads name, or the file named by name_FILE, and checks its form.
func (r *reader) secret(name, what string, check func(string) string) secret.Value {
	value := r.get(name)
	file := r.get(name + "_FILE")

	switch {
	case value != "" && file != "":
		r.fail("%s and %s_FILE are both set: set only one of them", name, name)
		return secret.Value{}
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			r.fail("%s_FILE: cannot read the file: %w", name, err)
			return secret.Value{}
		}
		value = strings.TrimSpace(string(data))
		if value == "" {
			r.fail("%s_FILE: the file %s is empty: put %s in it", name, file, what)
			return secret.Value{}
		}
	case value == "":
		r.fail("%s is missing: set it, or %s_FILE to a file that holds it, to %s", name, name, what)
		return secret.Value{}
	}

	if problem := check(value); problem != "" {
		r.fail("%s is invalid: %s", name, problem)
		return secret.Value{}
	}
	return secret.New(value)
}

func checkAppToken(v string) string {
	switch {
	case strings.HasPrefix(v, "xapp-"):
		return ""
	case strings.HasPrefix(v, "xoxb-"):
		return "it holds a bot token (xoxb-…); use the app-level token (xapp-…) from the app's Basic Information page, and put the bot token in SLACK_BOT_TOKEN"
	}
	return "it must be an app-level token that starts with xapp-"
}

func checkBotToken(v string) string {
	switch {
	case strings.HasPrefix(v, "xoxb-"):
		return ""
	case strings.HasPrefix(v, "xapp-"):
		return "it holds an app-level token (xapp-…); use the bot token (xoxb-…) from the app's OAuth & Permissions page, and put the app-level token in SLACK_APP_TOKEN"
	case strings.HasPrefix(v, "xoxp-"):
		return "it holds a user token (xoxp-…); use the bot token that starts with xoxb-"
	}
	return "it must be a bot token that starts with xoxb-"
}

func checkIPQSKey(v string) string {
	for _, c := range v {
		if c <= ' ' || c > '~' {
			return "it must be printable ASCII without spaces, like the 32-character key on the IPQualityScore account settings page"
		}
	}
	return ""
}

// apiURL reads an API root that must use HTTPS, except on loopback hosts,
// and returns it ending in "/".
func (r *reader) apiURL(name, def string) string {
	v := r.get(name)
	if v == "" {
		return def
	}

	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		r.fail("%s is invalid: the value is not an absolute https URL; use a form like %s", name, def)
		return ""
	}
	shown := u.Redacted()
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		r.fail("%s is invalid: %q uses http; use https, like %s (http is allowed only for loopback addresses such as 127.0.0.1)", name, shown, def)
		return ""
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		r.fail("%s is invalid: %q must not carry credentials, a query or a fragment; use a form like %s", name, shown, def)
		return ""
	}
	if !strings.HasSuffix(v, "/") {
		v += "/"
	}
	return v
}

// redisURL reads a Redis URL in the form go-redis's ParseURL accepts. The
// error shows the value only with its password hidden.
func (r *reader) redisURL(name string) (secret.Value, string) {
	v := r.get(name)
	if v == "" {
		return secret.Value{}, ""
	}

	const valid = "redis://[:password@]host:port/db such as redis://127.0.0.1:6379/0, or rediss://… for TLS"
	u, err := url.Parse(v)
	if err != nil {
		r.fail("%s is invalid: the value is not a URL; use %s", name, valid)
		return secret.Value{}, ""
	}
	shown := u.Redacted()
	if _, err := redis.ParseURL(v); err != nil {
		r.fail("%s is invalid: %q: %s; use %s", name, shown, redactURLError(err, u), valid)
		return secret.Value{}, ""
	}
	return secret.New(v), shown
}

// redactURLError returns err's text without the password of u, in case
// the parser quoted it.
func redactURLError(err error, u *url.URL) string {
	msg := err.Error()
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	return msg
}

// IsLoopbackHost reports whether host is localhost or a loopback address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listenAddr reads a host:port to listen on, or "none", which returns "".
func (r *reader) listenAddr(name, def string) string {
	v := r.get(name)
	switch {
	case v == "":
		return def
	case strings.EqualFold(v, "none"):
		return ""
	}

	_, port, err := net.SplitHostPort(v)
	if err == nil {
		var n int
		n, err = strconv.Atoi(port)
		if err == nil && (n < 0 || n > 65535) {
			err = errors.New("port out of range")
		}
	}
	if err != nil {
		r.fail("%s is invalid: %q is not host:port with a port from 0 to 65535; use a form like %s, 0.0.0.0:9090 to listen on every interface, or none", name, v, def)
		return ""
	}
	return v
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.get(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail("%s is invalid: %q is not a positive Go duration; use a form like 6h, 90m or 30s", name, v)
		return def
	}
	return d
}

func (r *reader) logLevel(name string) slog.Level {
	v := strings.ToLower(r.get(name))
	switch v {
	case "", "info":
		return slog.LevelInfo
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	r.fail("%s is invalid: %q; use one of debug, info, warn, error", name, v)
	return slog.LevelInfo
}

func (r *reader) oneOf(name, def string, valid []string) string {
	v := strings.ToLower(r.get(name))
	if v == "" {
		return def
	}
	if !slices.Contains(valid, v) {
		r.fail("%s is invalid: %q; use one of %s", name, v, strings.Join(valid, ", "))
		return def
	}
	return v
}

// list splits a comma-separated value, trimming spaces and dropping empty
// items.
func (r *reader) list(name string) []string {
	var items []string
	for item := range strings.SplitSeq(r.get(name), ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

func (r *reader) kinds(name string, def []indicator.Kind) []indicator.Kind {
	items := r.list(name)
	if len(items) == 0 {
		return slices.Clone(def)
	}

	valid := []indicator.Kind{indicator.KindURL, indicator.KindDomain, indicator.KindIP, indicator.KindEmail}
	var kinds []indicator.Kind
	for _, item := range items {
		k := indicator.Kind(strings.ToLower(item))
		if !slices.Contains(valid, k) {
			r.fail("%s is invalid: unknown kind %q; use a comma-separated list of url, domain, ip, email, such as url,domain", name, item)
			continue
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// ids reads a list of Slack IDs of the given form; kind names one ID, such
// as "a channel ID", and valid shows the whole value's form.
func (r *reader) ids(name string, form *regexp.Regexp, kind, valid string) []string {
	var ids []string
	for _, item := range r.list(name) {
		if !form.MatchString(item) {
			r.fail("%s is invalid: %q is not %s; use %s", name, item, kind, valid)
			continue
		}
		if !slices.Contains(ids, item) {
			ids = append(ids, item)
		}
	}
	return ids
}

func (r *reader) boolean(name string) bool {
	v := r.get(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail("%s is invalid: %q; use true or false", name, v)
	}
	return b
}

// positive reads a whole number of at least 1.
func (r *reader) positive(name string, def int) int {
	v := r.get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		r.fail("%s is invalid: %q; use a whole number of 1 or more, such as %d", name, v, def)
		return def
	}
	return n
}

// between reads a whole number from lo to hi.
func (r *reader) between(name string, def, lo, hi int) int {
	v := r.get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail("%s is invalid: %q; use a whole number from %d to %d, such as %d", name, v, lo, hi, def)
		return def
	}
	return n
}

// limit reads a whole number of 0 or more, where 0 or "unlimited" means no
// limit.
func (r *reader) limit(name string, def int) int {
	v := r.get(name)
	if v == "" {
		return def
	}
	if strings.EqualFold(v, "unlimited") {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		r.fail("%s is invalid: %q; use a whole number such as 300, or 0 or unlimited for no limit", name, v)
		return def
	}
	return n
}

func (r *reader) rate(name, def string) guard.Rate {
	v := r.get(name)
	if v == "" {
		v = def
	}
	rate, err := guard.ParseRate(v)
	if err != nil {
		r.fail("%s is invalid: %w", name, err)
	}
	return rate
}

func (r *reader) thresholds(name, def string) []guard.Threshold {
	v := r.get(name)
	if v == "" {
		v = def
	}
	th, err := guard.ParseThresholds(v)
	if err != nil {
		r.fail("%s is invalid: %w", name, err)
	}
	return th
}

func (r *reader) domains(name string) []string {
	var domains []string
	for _, item := range r.list(name) {
		d, err := guard.ValidateDomain(item)
		if err != nil {
			r.fail("%s is invalid: %w", name, err)
			continue
		}
		if !slices.Contains(domains, d) {
			domains = append(domains, d)
		}
	}
	return domains
}

// NeverLookupDomains reads NEVER_LOOKUP_DOMAINS alone, for commands that
// need no credentials.
func NeverLookupDomains(env Lookup) ([]string, error) {
	r := reader{env: env}
	domains := r.domains("NEVER_LOOKUP_DOMAINS")
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return domains, nil
}

// Terms of MemoryLimit.
const (
	memoryLimitBase     = 32 << 20
	memoryLimitPerEntry = 1 << 10
)

// MemoryLimit returns the soft memory limit, in bytes, that the bot gives
// Go's runtime when GOMEMLIMIT is not set: 32 MiB plus 1 KiB for each
// cache entry allowed by CACHE_MAX_ENTRIES, about 130 MiB by default. A
// cached IP result takes about 810 bytes of heap, so a full cache stays
// below the limit. Without a limit, the runtime lets the heap grow to twice
// what is live before it collects garbage.
func (c *Config) MemoryLimit() int64 {
	return memoryLimitBase + int64(c.CacheMaxEntries)*memoryLimitPerEntry
}
