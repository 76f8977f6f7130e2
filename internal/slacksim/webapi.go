package slacksim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Post methods recorded in Post.Method.
const (
	MethodPostMessage   = "chat.postMessage"
	MethodPostEphemeral = "chat.postEphemeral"
	MethodUpdate        = "chat.update"
	MethodResponseURL   = "response_url"
)

// Limits of a response_url that Slack documents: 5 posts within 30 minutes.
const (
	ResponseURLMaxPosts = 5
	ResponseURLLifetime = 30 * time.Minute
)

// maxBlocks is Block Kit's limit of blocks in one message.
const maxBlocks = 50

// Post is one message the app sent through the Web API or a response_url.
type Post struct {
	Method   string // MethodPostMessage, MethodPostEphemeral, MethodUpdate or MethodResponseURL
	Channel  string // for response_url posts, the slash command's channel
	ThreadTS string
	// TS is the message timestamp the simulator assigned, or for chat.update
	// the timestamp of the updated message. Empty for response_url posts.
	TS   string
	User string // chat.postEphemeral's user, or the slash command's user for response_url posts
	Text string
	// Blocks is the compacted "blocks" JSON array, nil when absent.
	Blocks json.RawMessage
	// UnfurlLinks and UnfurlMedia are nil when the request left them out.
	UnfurlLinks *bool
	UnfurlMedia *bool

	// The fields below are set for response_url posts only.
	ResponseType    string
	ReplaceOriginal bool
	DeleteOriginal  bool
	ResponseURL     string
	EnvelopeID      string // the slash command envelope that carried the response_url

	At time.Time
}

// responseURL is one response_url handed out with a slash command.
type responseURL struct {
	envelopeID string
	channel    string
	user       string
	created    time.Time
	posts      int
}

// apiError is a Web API error code such as "invalid_auth".
type apiError string

// serveAPI handles Web API calls at /api/{method}.
func (s *Sim) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	params, err := readParams(r)
	if err != nil {
		s.log.Debug("web api request unreadable", "method", method, "err", err)
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	token := bearerToken(r)
	if token == "" {
		token = params.Get("token")
	}

	s.mu.Lock()
	s.calls[method]++
	if limit, ok := s.rateLimits[method]; ok && limit.remaining > 0 {
		limit.remaining--
		s.rateLimits[method] = limit
		s.notifyLocked()
		s.mu.Unlock()

		seconds := int(math.Ceil(limit.retryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(seconds))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
		return
	}
	if fail, ok := s.failures[method]; ok && fail.remaining > 0 {
		fail.remaining--
		s.failures[method] = fail
		s.notifyLocked()
		s.mu.Unlock()

		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": fail.code})
		return
	}
	s.notifyLocked()
	s.mu.Unlock()

	var (
		result map[string]any
		code   apiError
	)
	switch method {
	case "auth.test":
		if code = s.checkToken(token, s.opts.BotToken); code == "" {
			result = s.authTest()
		}
	case "apps.connections.open":
		if code = s.checkToken(token, s.opts.AppToken); code == "" {
			result = s.openConnection()
		}
	case MethodPostMessage, MethodPostEphemeral, MethodUpdate:
		if code = s.checkToken(token, s.opts.BotToken); code == "" {
			result, code = s.recordChatPost(method, params)
		}
	case MethodUsergroupMembers:
		if code = s.checkToken(token, s.opts.BotToken); code == "" {
			result, code = s.usergroupMembers(params.Get("usergroup"))
		}
	default:
		code = "unknown_method"
	}

	if code != "" {
		s.log.Debug("web api call failed", "method", method, "error", string(code))
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": string(code)})
		return
	}
	result["ok"] = true
	writeJSON(w, http.StatusOK, result)
}

// checkToken compares the token of a call with the one its method needs.
func (s *Sim) checkToken(got, want string) apiError {
	switch got {
	case "":
		return "not_authed"
	case want:
		return ""
	case s.opts.AppToken, s.opts.BotToken:
		return "not_allowed_token_type"
	default:
		return "invalid_auth"
	}
}

func (s *Sim) authTest() map[string]any {
	return map[string]any{
		"url":     "https://" + DefaultTeamDomain + ".slack.com/",
		"team":    s.opts.TeamName,
		"user":    s.opts.BotName,
		"team_id": s.opts.TeamID,
		"user_id": s.opts.BotUserID,
		"bot_id":  s.opts.BotID,
	}
}

// openConnection issues a one-time WebSocket URL.
func (s *Sim) openConnection() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()

	ticket := strconv.FormatInt(s.nextLocked(), 10)
	s.tickets[ticket] = true
	s.opened++
	s.notifyLocked()
	return map[string]any{"url": s.wsURL + "/link/?ticket=" + ticket}
}

// recordChatPost validates and records a chat.* call.
func (s *Sim) recordChatPost(method string, params url.Values) (map[string]any, apiError) {
	post := Post{
		Method:   method,
		Channel:  params.Get("channel"),
		ThreadTS: params.Get("thread_ts"),
		User:     params.Get("user"),
		Text:     params.Get("text"),
		At:       time.Now(),
	}
	if post.Channel == "" {
		return nil, "channel_not_found"
	}
	if method == MethodPostEphemeral && post.User == "" {
		return nil, "user_not_found"
	}
	if method == MethodUpdate {
		post.TS = params.Get("ts")
		if post.TS == "" {
			return nil, "message_not_found"
		}
	}

	blocks, code := parseBlocks(params.Get("blocks"))
	if code != "" {
		return nil, code
	}
	post.Blocks = blocks
	if post.Text == "" && blocks == nil && params.Get("attachments") == "" {
		return nil, "no_text"
	}
	post.UnfurlLinks = parseBool(params, "unfurl_links")
	post.UnfurlMedia = parseBool(params, "unfurl_media")

	s.mu.Lock()
	defer s.mu.Unlock()
	if post.TS == "" {
		post.TS = s.newTSLocked()
	}
	s.posts = append(s.posts, post)
	s.notifyLocked()

	result := map[string]any{"channel": post.Channel}
	switch method {
	case MethodPostEphemeral:
		result["message_ts"] = post.TS
	default:
		result["ts"] = post.TS
		result["message"] = map[string]any{
			"type":      "message",
			"text":      post.Text,
			"user":      s.opts.BotUserID,
			"bot_id":    s.opts.BotID,
			"ts":        post.TS,
			"thread_ts": post.ThreadTS,
		}
	}
	return result, ""
}

// parseBlocks checks that raw is a JSON array of at most maxBlocks objects
// and returns it compacted.
func parseBlocks(raw string) (json.RawMessage, apiError) {
	if raw == "" {
		return nil, ""
	}
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		return nil, "invalid_blocks_format"
	}
	if len(blocks) > maxBlocks {
		return nil, "invalid_blocks"
	}
	for _, block := range blocks {
		if _, ok := block["type"].(string); !ok {
			return nil, "invalid_blocks"
		}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(raw)); err != nil {
		return nil, "invalid_blocks_format"
	}
	return compact.Bytes(), ""
}

func parseBool(params url.Values, key string) *bool {
	if !params.Has(key) {
		return nil
	}
	value, err := strconv.ParseBool(params.Get(key))
	if err != nil {
		return nil
	}
	return &value
}

// readParams returns the form fields of a call, or the members of a JSON
// body with non-string values re-encoded as JSON text (so "blocks" reads
// the same either way).
func readParams(r *http.Request) (url.Values, error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/json" {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		return r.Form, nil
	}

	params := r.URL.Query()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return params, nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, err
	}
	for key, raw := range members {
		var text string
		if json.Unmarshal(raw, &text) == nil {
			params.Set(key, text)
			continue
		}
		params.Set(key, string(raw))
	}
	return params, nil
}

func bearerToken(r *http.Request) string {
	value := r.Header.Get("Authorization")
	if token, ok := strings.CutPrefix(value, "Bearer "); ok {
		return strings.TrimSpace(token)
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// newResponseURLLocked returns a response_url for a slash command envelope.
func (s *Sim) newResponseURLLocked(envelopeID, channel, user string) string {
	id := strconv.FormatInt(s.nextLocked(), 10)
	s.responseURLs[id] = &responseURL{
		envelopeID: envelopeID,
		channel:    channel,
		user:       user,
		created:    time.Now(),
	}
	return s.server.URL + "/response/" + id
}

// serveResponseURL records a JSON post to a response_url.
//
// NOTE: the status codes and error bodies for a used up, expired or unknown
// response_url are a guess at Slack's behaviour. The simulator returns
// HTTP 404 with a JSON error, so slack-go reports a failure.
func (s *Sim) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/response/")
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"ok": false, "error": "method_not_allowed"})
		return
	}

	var body struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
		ThreadTS        string          `json:"thread_ts"`
		UnfurlLinks     *bool           `json:"unfurl_links"`
		UnfurlMedia     *bool           `json:"unfurl_media"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		s.log.Debug("response_url body unreadable", "response_url_id", id, "err", err)
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "invalid_payload"})
		return
	}

	var (
		blocks json.RawMessage
		code   apiError
	)
	if len(body.Blocks) > 0 && !bytes.Equal(body.Blocks, []byte("null")) {
		blocks, code = parseBlocks(string(body.Blocks))
	}
	if code == "" && body.Text == "" && blocks == nil && !body.DeleteOriginal {
		code = "no_text"
	}
	if code != "" {
		s.log.Debug("response_url post rejected", "response_url_id", id, "error", string(code))
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": string(code)})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	target, ok := s.responseURLs[id]
	switch {
	case !ok:
		code = "no_response_url"
	case time.Since(target.created) > ResponseURLLifetime:
		code = "expired_url"
	case target.posts >= ResponseURLMaxPosts:
		code = "used_url"
	}
	if code != "" {
		s.log.Debug("response_url post rejected", "response_url_id", id, "error", string(code))
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": string(code)})
		return
	}
	target.posts++

	s.posts = append(s.posts, Post{
		Method:          MethodResponseURL,
		Channel:         target.channel,
		ThreadTS:        body.ThreadTS,
		User:            target.user,
		Text:            body.Text,
		Blocks:          blocks,
		UnfurlLinks:     body.UnfurlLinks,
		UnfurlMedia:     body.UnfurlMedia,
		ResponseType:    body.ResponseType,
		ReplaceOriginal: body.ReplaceOriginal,
		DeleteOriginal:  body.DeleteOriginal,
		ResponseURL:     s.server.URL + r.URL.Path,
		EnvelopeID:      target.envelopeID,
		At:              time.Now(),
	})
	s.notifyLocked()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// Posts returns every recorded post, in order of arrival.
func (s *Sim) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// WaitPosts blocks until n posts in total have been recorded and returns
// all of them. On timeout it returns the posts recorded so far and an error.
func (s *Sim) WaitPosts(ctx context.Context, n int) ([]Post, error) {
	err := s.waitFor(ctx, func() bool { return len(s.posts) >= n })
	posts := s.Posts()
	if err != nil {
		return posts, fmt.Errorf("slacksim: wait for %d posts, got %d: %w", n, len(posts), err)
	}
	return posts, nil
}

// Calls returns how many requests reached the Web API method, failed and
// rate-limited ones included.
func (s *Sim) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Set429 makes the next n calls of the Web API method fail with HTTP 429
// and a Retry-After header of retryAfter rounded up to whole seconds.
// n = 0 clears the setting.
func (s *Sim) Set429(method string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits[method] = rateLimit{remaining: n, retryAfter: retryAfter}
}

// FailNext makes the next n calls of the Web API method return
// {"ok":false,"error":code}, for example "not_in_channel".
// n = 0 clears the setting. Set429 takes precedence.
func (s *Sim) FailNext(method, code string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = failure{remaining: n, code: code}
}

// MethodUsergroupMembers is the Web API method that lists a user group's
// members.
const MethodUsergroupMembers = "usergroups.users.list"

// SetUsergroup makes usergroups.users.list return members for groupID.
func (s *Sim) SetUsergroup(groupID string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usergroups == nil {
		s.usergroups = make(map[string][]string)
	}
	s.usergroups[groupID] = append([]string(nil), members...)
}

// usergroupMembers serves usergroups.users.list. An unknown group gets
// the error no_such_subteam, as from Slack.
func (s *Sim) usergroupMembers(groupID string) (map[string]any, apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	members, ok := s.usergroups[groupID]
	if !ok {
		return nil, "no_such_subteam"
	}
	return map[string]any{"users": append([]string{}, members...)}, ""
}
