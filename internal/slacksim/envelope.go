package slacksim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Envelope types of Socket Mode.
const (
	TypeEventsAPI     = "events_api"
	TypeSlashCommands = "slash_commands"
	TypeInteractive   = "interactive"
)

// envelope is one Socket Mode envelope the simulator created.
type envelope struct {
	id              string
	typ             string
	payload         json.RawMessage
	eventID         string
	acceptsResponse bool
	attempt         int
	reason          string

	sentAt     time.Time
	conn       int
	acked      bool
	superseded bool // a redelivery replaced it
}

// Envelope describes an envelope the simulator sent or queued.
type Envelope struct {
	ID           string
	Type         string
	EventID      string // empty unless Type is TypeEventsAPI
	RetryAttempt int
	RetryReason  string
	Payload      json.RawMessage
	SentAt       time.Time // zero while queued
	Connection   int       // 1 for the first accepted socket, 0 while queued
	Acked        bool
}

// Ack is one acknowledgement frame the client sent.
type Ack struct {
	EnvelopeID string
	// Payload is the ack's "payload" member, nil when absent or null.
	Payload json.RawMessage
	// Latency is the time from writing the envelope to reading the ack.
	Latency time.Duration
	At      time.Time
	// Size is the frame's length in bytes.
	Size int

	Type         string // envelope type, empty when Unknown
	EventID      string
	RetryAttempt int

	// Late is true when Latency exceeds Options.AckTimeout.
	Late bool
	// Duplicate is true when the envelope had been acknowledged before.
	Duplicate bool
	// Dropped is true when the frame had 20,480 bytes or more.
	// Slack ignores such acks, so the envelope stays unacknowledged.
	Dropped bool
	// Unknown is true when no envelope has this id.
	Unknown bool
}

func (e *envelope) encode() []byte {
	data, _ := json.Marshal(map[string]any{
		"envelope_id":              e.id,
		"type":                     e.typ,
		"payload":                  e.payload,
		"accepts_response_payload": e.acceptsResponse,
		"retry_attempt":            e.attempt,
		"retry_reason":             e.reason,
	})
	return data
}

// newEnvelopeLocked creates an envelope and sends or queues it.
// The caller holds s.mu.
func (s *Sim) newEnvelopeLocked(typ string, payload json.RawMessage, eventID string, attempt int, reason string) *envelope {
	env := &envelope{
		id:              s.newEnvelopeIDLocked(),
		typ:             typ,
		payload:         payload,
		eventID:         eventID,
		acceptsResponse: typ == TypeSlashCommands,
		attempt:         attempt,
		reason:          reason,
	}
	s.envelopes[env.id] = env
	if eventID != "" {
		s.lastByEventID[eventID] = env
	}
	s.sendLocked(frame{data: env.encode(), env: env})
	s.notifyLocked()

	s.log.Debug("envelope queued", "envelope_id", env.id, "type", typ, "event_id", eventID, "retry_attempt", attempt)
	return env
}

// markWriting records the time env starts being written to a socket.
func (s *Sim) markWriting(env *envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	env.sentAt = time.Now()
}

// markSent records that env was written to c and arms its redelivery.
func (s *Sim) markSent(env *envelope, c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()

	env.conn = c.id
	if env.typ == TypeEventsAPI && !env.acked && !env.superseded && env.attempt < s.opts.MaxRedeliveries {
		s.pending[env.id] = env
		select {
		case s.schedWake <- struct{}{}:
		default:
		}
	}
	s.notifyLocked()
}

// runScheduler redelivers Events API envelopes that stay unacknowledged
// for Options.AckTimeout after they were written.
func (s *Sim) runScheduler() {
	defer s.wg.Done()

	for {
		next := s.redeliverExpired(time.Now())

		var timeout <-chan time.Time
		var timer *time.Timer
		if !next.IsZero() {
			timer = time.NewTimer(time.Until(next))
			timeout = timer.C
		}

		select {
		case <-s.stop:
		case <-s.schedWake:
		case <-timeout:
		}
		if timer != nil {
			timer.Stop()
		}
		select {
		case <-s.stop:
			return
		default:
		}
	}
}

// redeliverExpired redelivers the pending envelopes whose deadline passed
// and returns the earliest deadline still ahead, or the zero time.
func (s *Sim) redeliverExpired(now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()

	var next time.Time
	var expired []*envelope
	for id, env := range s.pending {
		deadline := env.sentAt.Add(s.opts.AckTimeout)
		if !now.Before(deadline) {
			delete(s.pending, id)
			expired = append(expired, env)
			continue
		}
		if next.IsZero() || deadline.Before(next) {
			next = deadline
		}
	}

	for _, env := range expired {
		if env.acked || env.superseded || s.closed {
			continue
		}
		env.superseded = true
		retry := s.newEnvelopeLocked(env.typ, env.payload, env.eventID, env.attempt+1, "timeout")
		s.log.Debug("envelope redelivered", "envelope_id", env.id, "new_envelope_id", retry.id, "event_id", env.eventID)
	}
	return next
}

// Retry resends the Events API event with eventID in a new envelope with
// the same payload, retry_attempt one higher than its last delivery and
// retry_reason "timeout", as Slack does when an ack is late. It returns the
// new envelope id.
func (s *Sim) Retry(eventID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	last, ok := s.lastByEventID[eventID]
	if !ok {
		return "", fmt.Errorf("slacksim: retry event %q: no such event", eventID)
	}
	last.superseded = true
	delete(s.pending, last.id)
	retry := s.newEnvelopeLocked(last.typ, last.payload, last.eventID, last.attempt+1, "timeout")
	return retry.id, nil
}

// recordAck records one frame the client sent.
func (s *Sim) recordAck(data []byte) {
	var msg struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	err := json.Unmarshal(data, &msg)

	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()

	if err != nil || msg.EnvelopeID == "" {
		s.badFrames = append(s.badFrames, string(data))
		s.log.Debug("unreadable frame from client", "frame", string(data))
		return
	}

	now := time.Now()
	ack := Ack{EnvelopeID: msg.EnvelopeID, At: now, Size: len(data)}
	if len(msg.Payload) > 0 && !bytes.Equal(msg.Payload, []byte("null")) {
		ack.Payload = msg.Payload
	}

	env, ok := s.envelopes[msg.EnvelopeID]
	if !ok {
		ack.Unknown = true
		s.acks = append(s.acks, ack)
		return
	}

	ack.Type = env.typ
	ack.EventID = env.eventID
	ack.RetryAttempt = env.attempt
	if !env.sentAt.IsZero() {
		ack.Latency = now.Sub(env.sentAt)
	}
	ack.Late = ack.Latency > s.opts.AckTimeout
	ack.Duplicate = env.acked
	ack.Dropped = len(data) >= maxAckBytes
	if !ack.Dropped {
		env.acked = true
		delete(s.pending, env.id)
	}
	s.acks = append(s.acks, ack)
	s.log.Debug("ack received", "envelope_id", env.id, "latency", ack.Latency, "dropped", ack.Dropped)
}

// Acks returns every acknowledgement frame received so far, in order.
func (s *Sim) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ack(nil), s.acks...)
}

// BadFrames returns the frames from clients that were not acknowledgements
// with an envelope_id.
func (s *Sim) BadFrames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.badFrames...)
}

// WaitAck blocks until the first acknowledgement of envelopeID arrives and
// returns it, including one that Slack would drop (see Ack.Dropped).
func (s *Sim) WaitAck(ctx context.Context, envelopeID string) (Ack, error) {
	var found Ack
	err := s.waitFor(ctx, func() bool {
		for _, ack := range s.acks {
			if ack.EnvelopeID == envelopeID {
				found = ack
				return true
			}
		}
		return false
	})
	if err != nil {
		return Ack{}, fmt.Errorf("slacksim: wait for ack of envelope %s: %w", envelopeID, err)
	}
	return found, nil
}

// Envelopes returns every envelope created so far, redeliveries included,
// in creation order.
func (s *Sim) Envelopes() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()

	list := make([]Envelope, 0, len(s.envelopes))
	for _, env := range s.envelopes {
		list = append(list, Envelope{
			ID:           env.id,
			Type:         env.typ,
			EventID:      env.eventID,
			RetryAttempt: env.attempt,
			RetryReason:  env.reason,
			Payload:      env.payload,
			SentAt:       env.sentAt,
			Connection:   env.conn,
			Acked:        env.acked,
		})
	}
	sortEnvelopes(list)
	return list
}

// WaitEnvelopes blocks until n envelopes have been written to sockets,
// redeliveries included, and returns all envelopes.
func (s *Sim) WaitEnvelopes(ctx context.Context, n int) ([]Envelope, error) {
	err := s.waitFor(ctx, func() bool {
		sent := 0
		for _, env := range s.envelopes {
			if !env.sentAt.IsZero() {
				sent++
			}
		}
		return sent >= n
	})
	if err != nil {
		return s.Envelopes(), fmt.Errorf("slacksim: wait for %d sent envelopes: %w", n, err)
	}
	return s.Envelopes(), nil
}
