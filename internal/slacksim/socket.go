package slacksim

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Socket Mode disconnect reasons that Slack sends.
const (
	ReasonWarning           = "warning"
	ReasonRefreshRequested  = "refresh_requested"
	ReasonLinkDisabled      = "link_disabled"
	ReasonTooManyWebsockets = "too_many_websockets"
)

// maxAckBytes is the size from which Slack drops a Socket Mode response.
const maxAckBytes = 20 * 1024

const writeTimeout = 5 * time.Second

// frame is one text message waiting to be written to a socket.
type frame struct {
	data       []byte
	env        *envelope // nil for hello, disconnect and raw frames
	disconnect bool
	perConn    bool // hello or disconnect: never moved to another socket
}

// conn is one accepted Socket Mode WebSocket connection. Its writer
// goroutine is the only one that writes data frames.
type conn struct {
	id   int
	ws   *websocket.Conn
	wake chan struct{}
	stop chan struct{}
	once sync.Once

	out []frame // guarded by Sim.mu
}

func (c *conn) shutdown() {
	c.once.Do(func() {
		close(c.stop)
		_ = c.ws.Close()
	})
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

var upgrader = websocket.Upgrader{
	CheckOrigin: func(*http.Request) bool { return true },
}

// serveSocket accepts a WebSocket connection for a ticket that
// apps.connections.open issued and has not been used yet.
func (s *Sim) serveSocket(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")

	s.mu.Lock()
	valid := !s.closed && s.tickets[ticket]
	delete(s.tickets, ticket)
	s.mu.Unlock()
	if !valid {
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}

	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("websocket upgrade failed", "err", err)
		return
	}

	c := &conn{
		ws:   ws,
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.accepted++
	c.id = s.accepted
	c.out = []frame{{data: s.helloLocked(), perConn: true}}
	if s.disconnectAll != "" {
		// Envelopes stay queued for a socket that lasts.
		c.out = append(c.out, frame{data: disconnectFrame(s.disconnectAll), disconnect: true, perConn: true})
	} else {
		c.out = append(c.out, s.queue...)
		s.queue = nil
	}
	s.conns = append(s.conns, c)
	s.notifyLocked()
	s.wg.Add(2)
	s.mu.Unlock()

	s.log.Debug("socket connected", "connection", c.id)
	c.signal()
	go s.runWriter(c)
	go s.runReader(c)
}

func (s *Sim) helloLocked() []byte {
	hello := map[string]any{
		"type":            "hello",
		"num_connections": len(s.conns) + 1,
		"debug_info": map[string]any{
			"host":                        "sim",
			"build_number":                1,
			"approximate_connection_time": 18060,
		},
		"connection_info": map[string]any{"app_id": s.opts.AppID},
	}
	data, _ := json.Marshal(hello)
	return data
}

// runWriter writes queued frames and ping frames to c until the socket
// fails or closes.
func (s *Sim) runWriter(c *conn) {
	defer s.wg.Done()
	defer s.dropConn(c)

	var pings <-chan time.Time
	if s.opts.PingInterval > 0 {
		ticker := time.NewTicker(s.opts.PingInterval)
		defer ticker.Stop()
		pings = ticker.C
	}

	var closeAfterDisconnect <-chan time.Time
	var pingSeq int

	for {
		select {
		case <-c.stop:
			return

		case <-closeAfterDisconnect:
			s.log.Debug("closing socket after disconnect", "connection", c.id)
			return

		case <-pings:
			pingSeq++
			payload := []byte(strconv.Itoa(pingSeq))

			// Count before writing, because the pong may arrive before
			// WriteControl returns.
			s.mu.Lock()
			s.pingsSent++
			s.notifyLocked()
			s.mu.Unlock()

			if err := c.ws.WriteControl(websocket.PingMessage, payload, time.Now().Add(writeTimeout)); err != nil {
				s.log.Debug("ping failed", "connection", c.id, "err", err)
				return
			}

		case <-c.wake:
			disconnectSent, err := s.flush(c)
			if err != nil {
				s.log.Debug("socket write failed", "connection", c.id, "err", err)
				return
			}
			if disconnectSent && closeAfterDisconnect == nil {
				timer := time.NewTimer(s.opts.DisconnectGrace)
				defer timer.Stop()
				closeAfterDisconnect = timer.C
			}
		}
	}
}

// flush writes every queued frame of c. On a write error it puts the
// envelopes that were not written back into the simulator's queue.
func (s *Sim) flush(c *conn) (disconnectSent bool, err error) {
	for {
		s.mu.Lock()
		frames := c.out
		c.out = nil
		s.mu.Unlock()
		if len(frames) == 0 {
			return disconnectSent, nil
		}

		for i, f := range frames {
			if f.env != nil {
				// The client may acknowledge before WriteMessage returns, so
				// the send time is recorded first.
				s.markWriting(f.env)
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.ws.WriteMessage(websocket.TextMessage, f.data); err != nil {
				s.requeue(frames[i:])
				return disconnectSent, err
			}
			if f.disconnect {
				disconnectSent = true
			}
			if f.env != nil {
				s.markSent(f.env, c)
			}
		}
	}
}

// runReader reads acknowledgements from c and records pongs.
func (s *Sim) runReader(c *conn) {
	defer s.wg.Done()
	defer c.shutdown()

	c.ws.SetPongHandler(func(string) error {
		s.mu.Lock()
		s.pongs++
		s.notifyLocked()
		s.mu.Unlock()
		return nil
	})

	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			s.log.Debug("socket read ended", "connection", c.id, "err", err)
			return
		}
		s.recordAck(data)
	}
}

// dropConn unregisters c and moves its unwritten envelopes back to the queue.
func (s *Sim) dropConn(c *conn) {
	c.shutdown()

	s.mu.Lock()
	for i, other := range s.conns {
		if other == c {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			break
		}
	}
	frames := c.out
	c.out = nil
	s.mu.Unlock()

	s.requeue(frames)
	s.log.Debug("socket closed", "connection", c.id)
}

// requeue puts the envelopes among frames back in front of the queue, for
// the current or the next connection. Hello and disconnect frames belong to
// their connection and are dropped.
func (s *Sim) requeue(frames []frame) {
	var keep []frame
	for _, f := range frames {
		if !f.perConn {
			keep = append(keep, f)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(keep) == 0 || s.closed {
		return
	}
	if c := s.currentConnLocked(); c != nil {
		c.out = append(keep, c.out...)
		c.signal()
		return
	}
	s.queue = append(keep, s.queue...)
}

// currentConnLocked returns the newest open connection, or nil.
func (s *Sim) currentConnLocked() *conn {
	if len(s.conns) == 0 {
		return nil
	}
	return s.conns[len(s.conns)-1]
}

// sendLocked writes f to the current connection or queues it until one
// connects. The caller holds s.mu.
func (s *Sim) sendLocked(f frame) {
	if s.closed {
		return
	}
	if c := s.currentConnLocked(); c != nil {
		c.out = append(c.out, f)
		c.signal()
		return
	}
	s.queue = append(s.queue, f)
}

// Raw sends text as one WebSocket message, unchanged and untracked, for
// unknown envelope types or malformed JSON. It is queued while no socket is
// connected.
func (s *Sim) Raw(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sendLocked(frame{data: []byte(text)})
}

// Disconnect sends {"type":"disconnect","reason":reason} on every open
// socket. The simulator closes each of them after Options.DisconnectGrace
// unless the client closes first.
func (s *Sim) Disconnect(reason string) {
	data := disconnectFrame(reason)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.out = append(c.out, frame{data: data, disconnect: true, perConn: true})
		c.signal()
	}
}

// DisconnectEveryConnection makes the simulator send
// {"type":"disconnect","reason":reason} right after hello on every socket
// that opens from now on, as Slack does while Socket Mode is switched off
// (link_disabled) or the app has too many connections
// (too_many_websockets). An empty reason turns it off.
func (s *Sim) DisconnectEveryConnection(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disconnectAll = reason
}

func disconnectFrame(reason string) []byte {
	data, _ := json.Marshal(map[string]any{
		"type":   "disconnect",
		"reason": reason,
		"debug_info": map[string]any{
			"host": "sim",
		},
	})
	return data
}

// DropConnection closes every open socket at once, without a close frame,
// as a network failure would.
func (s *Sim) DropConnection() {
	s.mu.Lock()
	conns := append([]*conn(nil), s.conns...)
	s.mu.Unlock()

	for _, c := range conns {
		c.shutdown()
	}
}

// ConnectionsOpened returns how many apps.connections.open calls succeeded.
func (s *Sim) ConnectionsOpened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened
}

// Connected returns how many sockets are open now.
func (s *Sim) Connected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// WaitConnected blocks until at least one socket is open.
func (s *Sim) WaitConnected(ctx context.Context) error {
	return s.waitFor(ctx, func() bool { return len(s.conns) > 0 })
}

// WaitConnections blocks until n sockets in total have been accepted since
// New and at least one of them is open. After a reconnect, n = 2 waits for
// the new socket.
func (s *Sim) WaitConnections(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return s.accepted >= n && len(s.conns) > 0 })
}

// Pings returns how many WebSocket ping frames the simulator sent and how
// many pong frames came back.
func (s *Sim) Pings() (sent, pongs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pingsSent, s.pongs
}

// WaitPongs blocks until n pong frames have arrived in total.
func (s *Sim) WaitPongs(ctx context.Context, n int) error {
	return s.waitFor(ctx, func() bool { return s.pongs >= n })
}
