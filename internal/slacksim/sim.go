package slacksim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Defaults used when the matching Options field is empty.
const (
	DefaultAppToken     = "xapp-1-A1-1-simapptoken"
	DefaultBotToken     = "xoxb-1-1-simbottoken"
	DefaultTeamID       = "T1"
	DefaultTeamName     = "Test"
	DefaultTeamDomain   = "test"
	DefaultBotUserID    = "UBOT"
	DefaultBotID        = "BBOT"
	DefaultBotName      = "ipqs"
	DefaultAppID        = "A1"
	DefaultPingInterval = 5 * time.Second

	// DefaultAckTimeout is how long Slack waits for an acknowledgement
	// before it retries an event or shows the user an error.
	DefaultAckTimeout = 3 * time.Second

	// DefaultDisconnectGrace is how long the simulator keeps a socket open
	// after sending a disconnect message. Slack sends "warning" about 10 s
	// before it closes the connection.
	DefaultDisconnectGrace = 10 * time.Second

	// verificationToken fills the deprecated "token" field of payloads.
	verificationToken = "simverificationtoken"
)

// Options configures a Sim. The zero value is ready to use.
type Options struct {
	// AppToken is the app-level token (xapp-…) accepted by
	// apps.connections.open.
	AppToken string

	// BotToken is the bot token (xoxb-…) accepted by the other Web API methods.
	BotToken string

	TeamID    string
	TeamName  string
	BotUserID string
	BotID     string
	BotName   string
	AppID     string

	// PingInterval is the period of the WebSocket ping frames the simulator
	// sends, as Slack does. Zero means DefaultPingInterval and a negative
	// value disables pings.
	PingInterval time.Duration

	// AckTimeout is the time after which an unacknowledged envelope counts as
	// late and an Events API envelope is redelivered. Zero means
	// DefaultAckTimeout.
	AckTimeout time.Duration

	// MaxRedeliveries is how many times an unacknowledged Events API envelope
	// is redelivered with retry_reason "timeout". Zero disables redelivery.
	// Slack itself retries 3 times.
	MaxRedeliveries int

	// DisconnectGrace is how long a socket stays open after Disconnect sent
	// a disconnect message. Zero means DefaultDisconnectGrace.
	DisconnectGrace time.Duration

	// Logger receives debug logs of the simulator's traffic. Nil discards them.
	Logger *slog.Logger

	// EventIDPrefix goes after "Ev" in every event_id, so that several
	// simulators standing for one Slack never hand out the same event_id.
	EventIDPrefix string
}

// Sim is a local Slack: a Web API and a Socket Mode WebSocket endpoint on
// 127.0.0.1, plus methods that play users and inspect what the app did.
// All methods are safe for concurrent use.
type Sim struct {
	opts   Options
	log    *slog.Logger
	server *httptest.Server
	wsURL  string
	start  time.Time

	// wg counts the goroutines the simulator starts itself: the redelivery
	// scheduler and the reader and writer of every socket.
	wg        sync.WaitGroup
	stop      chan struct{}
	schedWake chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	closed  bool
	changed chan struct{} // closed and replaced on every state change

	counter        int64 // source of ids and timestamps
	tickets        map[string]bool
	opened         int // successful apps.connections.open calls
	accepted       int // WebSocket connections that got a hello
	conns          []*conn
	queue          []frame
	envelopes      map[string]*envelope
	lastByEventID  map[string]*envelope
	pending        map[string]*envelope // written, unacknowledged, may be redelivered
	acks           []Ack
	badFrames      []string
	posts          []Post
	responseURLs   map[string]*responseURL
	calls          map[string]int
	rateLimits     map[string]rateLimit
	failures       map[string]failure
	usergroups     map[string][]string
	sharedChannels map[string]bool
	// disconnectAll, when set, is the reason of a disconnect sent right
	// after hello on every new socket.
	disconnectAll string
	pingsSent     int
	pongs         int
}

type rateLimit struct {
	remaining  int
	retryAfter time.Duration
}

type failure struct {
	remaining int
	code      string
}

// New starts a simulator on 127.0.0.1. Call Close when done.
func New(opts Options) *Sim {
	opts = withDefaults(opts)

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}

	s := &Sim{
		opts:          opts,
		log:           logger,
		start:         time.Now(),
		stop:          make(chan struct{}),
		schedWake:     make(chan struct{}, 1),
		changed:       make(chan struct{}),
		tickets:       make(map[string]bool),
		envelopes:     make(map[string]*envelope),
		lastByEventID: make(map[string]*envelope),
		pending:       make(map[string]*envelope),
		responseURLs:  make(map[string]*responseURL),
		calls:         make(map[string]int),
		rateLimits:    make(map[string]rateLimit),
		failures:      make(map[string]failure),
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/link/", s.serveSocket)
	mux.HandleFunc("/response/", s.serveResponseURL)
	s.server = httptest.NewServer(mux)
	s.wsURL = "ws" + strings.TrimPrefix(s.server.URL, "http")

	s.wg.Add(1)
	go s.runScheduler()

	return s
}

func withDefaults(opts Options) Options {
	setDefault := func(field *string, value string) {
		if *field == "" {
			*field = value
		}
	}
	setDefault(&opts.AppToken, DefaultAppToken)
	setDefault(&opts.BotToken, DefaultBotToken)
	setDefault(&opts.TeamID, DefaultTeamID)
	setDefault(&opts.TeamName, DefaultTeamName)
	setDefault(&opts.BotUserID, DefaultBotUserID)
	setDefault(&opts.BotID, DefaultBotID)
	setDefault(&opts.BotName, DefaultBotName)
	setDefault(&opts.AppID, DefaultAppID)

	if opts.PingInterval == 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = DefaultAckTimeout
	}
	if opts.DisconnectGrace <= 0 {
		opts.DisconnectGrace = DefaultDisconnectGrace
	}
	if opts.MaxRedeliveries < 0 {
		opts.MaxRedeliveries = 0
	}
	return opts
}

// Close closes every socket, stops the server and waits for the
// simulator's goroutines to end. It is safe to call more than once.
func (s *Sim) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := append([]*conn(nil), s.conns...)
		s.notifyLocked()
		s.mu.Unlock()

		close(s.stop)
		for _, c := range conns {
			c.shutdown()
		}
		s.wg.Wait()
		s.server.Close()
	})
}

// APIURL returns the Web API base URL for slack.OptionAPIURL. It ends with "/".
func (s *Sim) APIURL() string { return s.server.URL + "/api/" }

// URL returns the base URL of the simulator's HTTP server.
func (s *Sim) URL() string { return s.server.URL }

// AppToken returns the app-level token that apps.connections.open accepts.
func (s *Sim) AppToken() string { return s.opts.AppToken }

// BotToken returns the bot token that the other Web API methods accept.
func (s *Sim) BotToken() string { return s.opts.BotToken }

// BotUserID returns the bot's user ID, as auth.test reports it.
func (s *Sim) BotUserID() string { return s.opts.BotUserID }

// BotID returns the bot ID, as auth.test reports it.
func (s *Sim) BotID() string { return s.opts.BotID }

// TeamID returns the workspace ID.
func (s *Sim) TeamID() string { return s.opts.TeamID }

// AppID returns the app ID sent in hello and in every payload.
func (s *Sim) AppID() string { return s.opts.AppID }

// notifyLocked wakes every waiter. The caller holds s.mu.
func (s *Sim) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor blocks until done, called with s.mu held, returns true, or until
// ctx ends or the simulator closes.
func (s *Sim) waitFor(ctx context.Context, done func() bool) error {
	for {
		s.mu.Lock()
		if done() {
			s.mu.Unlock()
			return nil
		}
		closed := s.closed
		changed := s.changed
		s.mu.Unlock()

		if closed {
			return errClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

var errClosed = fmt.Errorf("slacksim: simulator closed")

// nextLocked returns a number that is unique within the simulator.
// The caller holds s.mu.
func (s *Sim) nextLocked() int64 {
	s.counter++
	return s.counter
}

// newTSLocked returns a Slack message timestamp ("seconds.micros") greater
// than every earlier one. The caller holds s.mu.
func (s *Sim) newTSLocked() string {
	n := s.nextLocked()
	return fmt.Sprintf("%d.%06d", s.start.Unix()+n/1_000_000, n%1_000_000)
}

// newEnvelopeIDLocked returns an id shaped like Slack's UUID envelope ids.
func (s *Sim) newEnvelopeIDLocked() string {
	n := s.nextLocked()
	return fmt.Sprintf("5e1c0000-0000-4000-8000-%012d", n)
}

func (s *Sim) newEventIDLocked() string {
	return fmt.Sprintf("Ev%s%010d", s.opts.EventIDPrefix, s.nextLocked())
}

func (s *Sim) newTriggerIDLocked() string {
	return fmt.Sprintf("%d.1.%032d", s.start.Unix(), s.nextLocked())
}
