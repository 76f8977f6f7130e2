package slacksim

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Defaults for what the test leaves empty when it plays a user.
const (
	DefaultChannel     = "C0SIM"
	DefaultChannelName = "general"
	DefaultUser        = "U0SIM"
	DefaultUserName    = "tester"
	DefaultCommand     = "/ipqs"
)

// SlashCommand is the payload of a slash_commands envelope.
type SlashCommand = slack.SlashCommand

// EventRef identifies one delivered Events API event.
type EventRef struct {
	EnvelopeID string
	EventID    string
	Channel    string
	TS         string
}

// MentionRef identifies the two events Slack sends for a channel message
// that mentions the bot.
type MentionRef struct {
	Channel    string
	TS         string
	AppMention EventRef
	Message    EventRef
}

// MessageOption changes the inner event that Message or Mention builds.
type MessageOption func(event map[string]any)

// WithSubtype sets the message subtype, such as "bot_message" or
// "channel_join".
func WithSubtype(subtype string) MessageOption {
	return func(event map[string]any) { event["subtype"] = subtype }
}

// WithBotID marks the message as sent by a bot.
func WithBotID(botID string) MessageOption {
	return func(event map[string]any) { event["bot_id"] = botID }
}

// WithThreadTS places the message in the thread of threadTS.
func WithThreadTS(threadTS string) MessageOption {
	return func(event map[string]any) { event["thread_ts"] = threadTS }
}

// WithChannelType sets channel_type: "channel", "group", "im" or "mpim".
// By default it follows the channel ID's first letter (D is "im", G is
// "group", anything else "channel").
func WithChannelType(channelType string) MessageOption {
	return func(event map[string]any) { event["channel_type"] = channelType }
}

// WithTS sets the message timestamp instead of a fresh one.
func WithTS(ts string) MessageOption {
	return func(event map[string]any) {
		event["ts"] = ts
		event["event_ts"] = ts
	}
}

// WithField sets any member of the inner event.
func WithField(key string, value any) MessageOption {
	return func(event map[string]any) { event[key] = value }
}

// WithEdited turns the message into the message_changed event Slack sends
// when a user edits the message originalTS: the new text moves into a
// nested "message" with an "edited" member, and the event is hidden.
func WithEdited(originalTS string) MessageOption {
	return func(event map[string]any) {
		edited := map[string]any{
			"type":   "message",
			"user":   event["user"],
			"text":   event["text"],
			"ts":     originalTS,
			"edited": map[string]any{"user": event["user"], "ts": event["ts"]},
		}
		if thread, ok := event["thread_ts"]; ok {
			edited["thread_ts"] = thread
		}
		event["subtype"] = "message_changed"
		event["hidden"] = true
		event["message"] = edited
		event["previous_message"] = map[string]any{
			"type": "message",
			"user": event["user"],
			"text": "",
			"ts":   originalTS,
		}
		delete(event, "user")
		delete(event, "text")
		delete(event, "client_msg_id")
	}
}

// SlashCommand sends a slash_commands envelope and returns its id. Empty
// fields get defaults: command "/ipqs", DefaultChannel, DefaultUser, the
// simulator's team and app, a trigger_id, and a response_url served by the
// simulator (see Post.EnvelopeID).
func (s *Sim) SlashCommand(cmd SlashCommand) string {
	s.mu.Lock()
	defer s.mu.Unlock()

	setDefault := func(field *string, value string) {
		if *field == "" {
			*field = value
		}
	}
	setDefault(&cmd.Token, verificationToken)
	setDefault(&cmd.TeamID, s.opts.TeamID)
	setDefault(&cmd.TeamDomain, DefaultTeamDomain)
	setDefault(&cmd.ChannelID, DefaultChannel)
	setDefault(&cmd.ChannelName, DefaultChannelName)
	setDefault(&cmd.UserID, DefaultUser)
	setDefault(&cmd.UserName, DefaultUserName)
	setDefault(&cmd.Command, DefaultCommand)
	setDefault(&cmd.APIAppID, s.opts.AppID)
	setDefault(&cmd.TriggerID, s.newTriggerIDLocked())

	// The envelope id is known only after creation, so the response_url
	// entry is linked to it afterwards.
	responseID := ""
	if cmd.ResponseURL == "" {
		cmd.ResponseURL = s.newResponseURLLocked("", cmd.ChannelID, cmd.UserID)
		responseID = cmd.ResponseURL[strings.LastIndex(cmd.ResponseURL, "/")+1:]
	}

	payload, _ := json.Marshal(cmd)
	env := s.newEnvelopeLocked(TypeSlashCommands, payload, "", 0, "")
	if target, ok := s.responseURLs[responseID]; ok {
		target.envelopeID = env.id
	}
	return env.id
}

// Mention sends what Slack sends when user posts text in channel and the
// text mentions the bot: an app_mention event and then a message event,
// with the same channel and ts but different event ids and envelopes.
// Unless text already contains "<@BOTUSERID>", it is prefixed with it.
// Empty channel and user get DefaultChannel and DefaultUser.
func (s *Sim) Mention(channel, user, text string, opts ...MessageOption) MentionRef {
	mention := "<@" + s.opts.BotUserID + ">"
	if !strings.Contains(text, mention) {
		text = mention + " " + text
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	message := s.newMessageLocked(channel, user, text, opts)
	appMention := map[string]any{"type": "app_mention"}
	for _, key := range []string{"user", "text", "ts", "event_ts", "channel", "team", "user_team", "source_team", "blocks", "client_msg_id", "thread_ts"} {
		if value, ok := message[key]; ok {
			appMention[key] = value
		}
	}

	ref := MentionRef{
		Channel:    message["channel"].(string),
		TS:         message["ts"].(string),
		AppMention: s.sendEventLocked(appMention),
		Message:    s.sendEventLocked(message),
	}
	return ref
}

// Message sends a message event for a channel message that does not
// mention the bot. Empty channel and user get DefaultChannel and
// DefaultUser.
func (s *Sim) Message(channel, user, text string, opts ...MessageOption) EventRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sendEventLocked(s.newMessageLocked(channel, user, text, opts))
}

// Event sends inner as the "event" of an events_api envelope, unchanged
// except that a missing "event_ts" is filled in.
func (s *Sim) Event(inner map[string]any) EventRef {
	event := make(map[string]any, len(inner)+1)
	for key, value := range inner {
		event[key] = value
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := event["event_ts"]; !ok {
		event["event_ts"] = s.newTSLocked()
	}
	return s.sendEventLocked(event)
}

// Interactive sends payload in an interactive envelope (a block_actions
// click, for example) and returns the envelope id. A missing "type" becomes
// "block_actions"; missing "api_app_id", "token", "team" and "trigger_id"
// get the simulator's values.
func (s *Sim) Interactive(payload map[string]any) string {
	body := make(map[string]any, len(payload)+5)
	for key, value := range payload {
		body[key] = value
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	defaults := map[string]any{
		"type":       "block_actions",
		"api_app_id": s.opts.AppID,
		"token":      verificationToken,
		"team":       map[string]any{"id": s.opts.TeamID, "domain": DefaultTeamDomain},
		"trigger_id": s.newTriggerIDLocked(),
	}
	for key, value := range defaults {
		if _, ok := body[key]; !ok {
			body[key] = value
		}
	}
	data, _ := json.Marshal(body)
	return s.newEnvelopeLocked(TypeInteractive, data, "", 0, "").id
}

// ButtonClick sends the block_actions envelope Slack sends when user
// clicks a button with actionID and value on a message the bot posted in
// channel, and returns the envelope id. The payload carries a response_url
// served by the simulator. Empty channel and user get DefaultChannel and
// DefaultUser.
func (s *Sim) ButtonClick(channel, user, actionID, value string) string {
	if channel == "" {
		channel = DefaultChannel
	}
	if user == "" {
		user = DefaultUser
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	messageTS := s.newTSLocked()
	responseURL := s.newResponseURLLocked("", channel, user)
	payload := map[string]any{
		"type":       "block_actions",
		"user":       map[string]any{"id": user, "username": DefaultUserName, "team_id": s.opts.TeamID},
		"api_app_id": s.opts.AppID,
		"token":      verificationToken,
		"container": map[string]any{
			"type":         "message",
			"message_ts":   messageTS,
			"channel_id":   channel,
			"is_ephemeral": false,
		},
		"trigger_id":   s.newTriggerIDLocked(),
		"team":         map[string]any{"id": s.opts.TeamID, "domain": DefaultTeamDomain},
		"channel":      map[string]any{"id": channel, "name": DefaultChannelName},
		"message":      map[string]any{"type": "message", "user": s.opts.BotUserID, "bot_id": s.opts.BotID, "ts": messageTS},
		"response_url": responseURL,
		"actions": []map[string]any{{
			"type":      "button",
			"action_id": actionID,
			"block_id":  "sim-block",
			"text":      map[string]any{"type": "plain_text", "text": value},
			"value":     value,
			"action_ts": s.newTSLocked(),
		}},
	}
	data, _ := json.Marshal(payload)
	env := s.newEnvelopeLocked(TypeInteractive, data, "", 0, "")
	s.responseURLs[responseURL[strings.LastIndex(responseURL, "/")+1:]].envelopeID = env.id
	return env.id
}

// newMessageLocked builds the inner event of a user's channel message.
func (s *Sim) newMessageLocked(channel, user, text string, opts []MessageOption) map[string]any {
	if channel == "" {
		channel = DefaultChannel
	}
	if user == "" {
		user = DefaultUser
	}
	ts := s.newTSLocked()
	event := map[string]any{
		"type":          "message",
		"channel":       channel,
		"user":          user,
		"text":          text,
		"ts":            ts,
		"event_ts":      ts,
		"team":          s.opts.TeamID,
		"client_msg_id": s.newEnvelopeIDLocked(),
		"channel_type":  channelType(channel),
	}
	for _, opt := range opts {
		opt(event)
	}
	return event
}

func channelType(channel string) string {
	switch {
	case strings.HasPrefix(channel, "D"):
		return "im"
	case strings.HasPrefix(channel, "G"):
		return "group"
	default:
		return "channel"
	}
}

// sendEventLocked wraps event in an event_callback and sends it.
func (s *Sim) sendEventLocked(event map[string]any) EventRef {
	eventID := s.newEventIDLocked()
	callback := map[string]any{
		"token":      verificationToken,
		"team_id":    s.opts.TeamID,
		"api_app_id": s.opts.AppID,
		"event":      event,
		"type":       "event_callback",
		"event_id":   eventID,
		"event_time": time.Now().Unix(),
		"authorizations": []map[string]any{{
			"enterprise_id":         nil,
			"team_id":               s.opts.TeamID,
			"user_id":               s.opts.BotUserID,
			"is_bot":                true,
			"is_enterprise_install": false,
		}},
		"is_ext_shared_channel": s.sharedChannels[channelOf(event)],
		"event_context":         "4-sim-" + eventID,
	}
	payload, _ := json.Marshal(callback)
	env := s.newEnvelopeLocked(TypeEventsAPI, payload, eventID, 0, "")

	ref := EventRef{EnvelopeID: env.id, EventID: eventID}
	ref.Channel, _ = event["channel"].(string)
	ref.TS, _ = event["ts"].(string)
	return ref
}

// sortEnvelopes orders envelopes by creation. Envelope ids end in a
// zero-padded counter, so their string order is their creation order.
func sortEnvelopes(list []Envelope) {
	slices.SortFunc(list, func(a, b Envelope) int { return strings.Compare(a.ID, b.ID) })
}

// SetExtShared marks channel as shared with other organisations through
// Slack Connect: its events carry is_ext_shared_channel true.
func (s *Sim) SetExtShared(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sharedChannels == nil {
		s.sharedChannels = make(map[string]bool)
	}
	s.sharedChannels[channel] = true
}

// channelOf returns the channel of an inner event, or "".
func channelOf(event map[string]any) string {
	channel, _ := event["channel"].(string)
	return channel
}
