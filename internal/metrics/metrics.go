// Package metrics records ipqsbot's Prometheus metrics in a registry of its
// own and serves them with liveness and readiness endpoints.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Cache tiers, the values of the tier label of ipqsbot_cache_total.
const (
	TierMemory = "memory"
	TierRedis  = "redis"
)

// ackBuckets are the bounds of ipqsbot_ack_seconds in seconds. They are fine
// below 50 ms, where a healthy acknowledgement falls, and reach Slack's
// 3-second retry limit.
var ackBuckets = []float64{
	0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05,
	0.1, 0.25, 0.5, 1, 2, 3,
}

// Metrics contains ipqsbot's collectors. Its methods are safe for concurrent
// use.
type Metrics struct {
	reg *prometheus.Registry

	envelopes        *prometheus.CounterVec
	ack              prometheus.Histogram
	lookups          *prometheus.CounterVec
	cache            *prometheus.CounterVec
	ipqsCalls        *prometheus.CounterVec
	ipqsErrors       *prometheus.CounterVec
	slackPosts       *prometheus.CounterVec
	slackRateLimited *prometheus.CounterVec
	reconnects       prometheus.Counter
	connectionOpens  *prometheus.CounterVec
	replyQueue       *prometheus.GaugeVec
	queueDepth       prometheus.Gauge
	lastEvent        prometheus.Gauge
}

// New returns Metrics registered in a new registry, together with the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		envelopes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipqsbot_envelopes_total",
			Help: "Socket Mode envelopes received, by envelope type.",
		}, []string{"type"}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ipqsbot_ack_seconds",
			Help:    "Time from reading an envelope to the end of its acknowledgement.",
			Buckets: ackBuckets,
		}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipqsbot_lookups_total",
			Help: "Indicator lookups, by kind and outcome.",
		}, []string{"kind", "outcome"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipqsbot_cache_total",
			Help: "Cache reads, by tier (memory or redis) and result (hit or miss).",
		}, []string{"tier", "result"}),
		ipqsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipqsbot_ipqs_calls_total",
			Help: "Calls to the IPQualityScore API, by operation.",
		}, []string{"op"}),
		ipqsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipqsbot_ipqs_errors_total",
			Help: "Failed calls to the IPQualityScore API, by error class.",
		}, []string{"class"}),
		slackPosts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipqsbot_slack_posts_total",
			Help: "Replies posted to Slack, by Web API method or response_url.",
		}, []string{"method"}),
		slackRateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipqsbot_slack_ratelimited_total",
			Help: "Slack responses with HTTP 429, by method.",
		}, []string{"method"}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ipqsbot_reconnects_total",
			Help: "Socket Mode connections after the first.",
		}),
		connectionOpens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ipqsbot_slack_connection_opens_total",
			Help: "Calls of apps.connections.open, by whether the bot first waited because it was reconnecting too often.",
		}, []string{"throttled"}),
		replyQueue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ipqsbot_slack_reply_queue",
			Help: "Replies waiting because Slack rate-limited their channel, by Web API method.",
		}, []string{"method"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ipqsbot_queue_depth",
			Help: "Envelopes waiting for a worker.",
		}),
		lastEvent: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ipqsbot_last_event_timestamp_seconds",
			Help: "Unix time of the last envelope received.",
		}),
	}
	m.reg.MustRegister(
		m.envelopes, m.ack, m.lookups, m.cache, m.ipqsCalls, m.ipqsErrors,
		m.slackPosts, m.slackRateLimited, m.reconnects, m.connectionOpens, m.replyQueue, m.queueDepth, m.lastEvent,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the registry that contains the collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Envelope counts a received envelope of type typ and records the time.
func (m *Metrics) Envelope(typ string) {
	m.envelopes.WithLabelValues(typ).Inc()
	m.lastEvent.SetToCurrentTime()
}

// Ack records the duration of one acknowledgement.
func (m *Metrics) Ack(d time.Duration) { m.ack.Observe(d.Seconds()) }

// Reconnect counts a connection after the first.
func (m *Metrics) Reconnect() { m.reconnects.Inc() }

// ConnectionOpen counts a call of apps.connections.open; throttled is
// true when the bot waited before it, to stay within its reconnect bound.
func (m *Metrics) ConnectionOpen(throttled bool) {
	m.connectionOpens.WithLabelValues(strconv.FormatBool(throttled)).Inc()
}

// QueueDepth sets the number of envelopes waiting for a worker.
func (m *Metrics) QueueDepth(n int) { m.queueDepth.Set(float64(n)) }

// Lookup counts one indicator lookup of kind with its outcome, such as ok,
// error or skipped.
func (m *Metrics) Lookup(kind, outcome string) { m.lookups.WithLabelValues(kind, outcome).Inc() }

// CacheRead counts a read of a cache tier, TierMemory or TierRedis.
func (m *Metrics) CacheRead(tier string, hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cache.WithLabelValues(tier, result).Inc()
}

// IPQSCall counts a call to the IPQS API operation op, such as ip, url,
// email or account.
func (m *Metrics) IPQSCall(op string) { m.ipqsCalls.WithLabelValues(op).Inc() }

// IPQSError counts a failed IPQS call of the error class, such as timeout,
// status or quota.
func (m *Metrics) IPQSError(class string) { m.ipqsErrors.WithLabelValues(class).Inc() }

// SlackPost counts a reply posted with method, such as chat.postMessage or
// response_url.
func (m *Metrics) SlackPost(method string) { m.slackPosts.WithLabelValues(method).Inc() }

// ReplyQueue sets the number of replies through method that wait because
// Slack rate-limited their channels.
func (m *Metrics) ReplyQueue(method string, n int) {
	m.replyQueue.WithLabelValues(method).Set(float64(n))
}

// SlackRateLimited counts a rate-limited (HTTP 429) response from Slack to method.
func (m *Metrics) SlackRateLimited(method string) { m.slackRateLimited.WithLabelValues(method).Inc() }

// CacheObserver receives the result of each cache read. *Metrics implements
// it, for the cache to call.
type CacheObserver interface {
	CacheRead(tier string, hit bool)
}

var _ CacheObserver = (*Metrics)(nil)
