package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/ipqsbot/ipqsbot/formatter"
	"github.com/ipqsbot/ipqsbot/handlers"
	"github.com/ipqsbot/ipqsbot/internal/config"
)

// Bounds of a reply to Slack.
const (
	postTimeout = 15 * time.Second
	// maxRetryAfter caps the wait that one HTTP 429 response imposes.
	maxRetryAfter = 30 * time.Second
)

// replier posts replies through the Web API and response_url.
type replier struct {
	api  *slack.Client
	http *http.Client
	// apiHost is the Web API's host; response URLs on it are trusted too, for
	// GovSlack and local test servers.
	apiHost string
	metrics Metrics
	// posts and ephemerals queue the replies that Slack rate-limits, per
	// method and channel.
	posts      *outbox
	ephemerals *outbox
	log        *slog.Logger
}

var _ handlers.Replier = (*replier)(nil)

func newReplier(api *slack.Client, httpClient *http.Client, apiHost string, queueSize int, m Metrics, log *slog.Logger) *replier {
	r := &replier{api: api, http: httpClient, apiHost: apiHost, metrics: m, log: log}
	r.posts = newOutbox(methodPostMessage, r.postMessage, queueSize, log, m)
	r.ephemerals = newOutbox(methodPostEphemeral, r.postEphemeral, queueSize, log, m)
	return r
}

// Web API methods that post replies.
const (
	methodPostMessage   = "chat.postMessage"
	methodPostEphemeral = "chat.postEphemeral"
)

// PostThread posts msg in the thread of threadTS, or in the channel itself
// when threadTS is empty, with link and media unfurling off. While Slack
// rate-limits the channel, msg is queued and PostThread returns nil; when
// the channel's queue is full, it returns a *QueueFullError. When requester
// is set and msg cannot be posted, now or later from the queue, requester
// gets an ephemeral message that says so.
func (r *replier) PostThread(ctx context.Context, channel, threadTS, requester string, msg formatter.Message) error {
	opts := []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}

	var onFail failFunc
	if requester != "" {
		onFail = func(ctx context.Context, err error) { r.tellFailed(ctx, channel, requester, err) }
	}
	err := r.posts.post(ctx, channel, opts, onFail)
	if err != nil && onFail != nil {
		onFail(ctx, err)
	}
	return err
}

// tellFailed posts an ephemeral message to user in channel: the reply to
// their request could not be posted there.
func (r *replier) tellFailed(ctx context.Context, channel, user string, cause error) {
	msg := formatter.PostFailed(cause)
	opts := []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionPostEphemeral(user),
	}
	if err := r.ephemerals.post(ctx, channel, opts, nil); err != nil {
		r.log.Error("telling the requester that a reply failed also failed", "channel", channel, "user", user, "err", err)
	}
}

// postMessage makes one chat.postMessage call.
func (r *replier) postMessage(ctx context.Context, channel string, opts []slack.MsgOption) error {
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	_, _, err := r.api.PostMessageContext(ctx, channel, opts...)
	return r.counted(methodPostMessage, channel, err)
}

// postEphemeral makes one chat.postEphemeral call. opts name the user.
func (r *replier) postEphemeral(ctx context.Context, channel string, opts []slack.MsgOption) error {
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	_, _, _, err := r.api.SendMessageContext(ctx, channel, opts...)
	return r.counted(methodPostEphemeral, channel, err)
}

// counted records the outcome of one call of method and wraps its error.
func (r *replier) counted(method, channel string, err error) error {
	if _, limited := errors.AsType[*slack.RateLimitedError](err); limited {
		r.metrics.SlackRateLimited(method)
	} else if err == nil {
		r.metrics.SlackPost(method)
	}
	if err != nil {
		return fmt.Errorf("%s to %s: %w", method, channel, err)
	}
	return nil
}

// close waits for the queued replies until deadline, and drops the rest.
// It reports whether none was dropped.
func (r *replier) close(deadline time.Time) bool {
	posts := r.posts.close(deadline)
	ephemerals := r.ephemerals.close(deadline)
	return posts && ephemerals
}

// Respond posts msg to a slash command's response_url as an ephemeral
// message.
func (r *replier) Respond(ctx context.Context, responseURL string, msg formatter.Message) error {
	if err := r.checkResponseURL(responseURL); err != nil {
		return err
	}

	no := false
	body, err := json.Marshal(slack.WebhookMessage{
		Text:         msg.Text,
		Blocks:       &slack.Blocks{BlockSet: msg.Blocks},
		ResponseType: slack.ResponseTypeEphemeral,
		UnfurlLinks:  &no,
		UnfurlMedia:  &no,
	})
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post to response_url: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")

	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Errorf("post to response_url: %w", redactURLError(err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))

	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post to response_url: status %d: %s", resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	r.metrics.SlackPost("response_url")
	return nil
}

// checkResponseURL accepts only Slack's own hosts, the Web API's host, and
// loopback addresses, so a forged payload cannot make the bot post elsewhere.
func (r *replier) checkResponseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("response_url is not an absolute URL")
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case u.Scheme == "http" && config.IsLoopbackHost(host):
		return nil
	case u.Scheme != "https":
		return fmt.Errorf("response_url on %s does not use https", host)
	case host == "slack.com", strings.HasSuffix(host, ".slack.com"),
		host == "slack-gov.com", strings.HasSuffix(host, ".slack-gov.com"),
		host == r.apiHost:
		return nil
	}
	return fmt.Errorf("response_url host %s is not a Slack host", host)
}

// redactURLError drops the URL from a *url.Error: a response_url is a
// bearer credential for posting to the user.
func redactURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
