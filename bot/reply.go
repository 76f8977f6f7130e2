package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	postTimeout     = 15 * time.Second
	maxPostAttempts = 3
	maxRetryAfter   = 30 * time.Second
)

// replier posts replies through the Web API and response_url.
type replier struct {
	api  *slack.Client
	http *http.Client
	// apiHost is the Web API's host; response URLs on it are trusted too, for
	// GovSlack and local test servers.
	apiHost string
	metrics Metrics
}

var _ handlers.Replier = (*replier)(nil)

// PostThread posts msg in the thread of threadTS, or in the channel itself
// when threadTS is empty, with link and media unfurling off. It waits out
// HTTP 429 answers, a bounded number of times.
func (r *replier) PostThread(ctx context.Context, channel, threadTS string, msg formatter.Message) error {
	opts := []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}

	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(ctx, postTimeout)
		_, _, err := r.api.PostMessageContext(ctx, channel, opts...)
		cancel()

		rl, limited := errors.AsType[*slack.RateLimitedError](err)
		if limited {
			r.metrics.SlackRateLimited("chat.postMessage")
		} else if err == nil {
			r.metrics.SlackPost("chat.postMessage")
		}
		if !limited || attempt == maxPostAttempts {
			if err != nil {
				return fmt.Errorf("chat.postMessage to %s: %w", channel, err)
			}
			return nil
		}
		if err := sleep(ctx, min(rl.RetryAfter, maxRetryAfter)); err != nil {
			return fmt.Errorf("chat.postMessage to %s: %w", channel, err)
		}
	}
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
