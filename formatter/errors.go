package formatter

import (
	"context"
	"errors"

	"github.com/ipqsbot/ipqsbot/ipqs"
	"github.com/slack-go/slack"
)

// maxProblemText bounds each part of a Problem card, in runes.
const maxProblemText = 1000

// The user-facing texts of ErrorText.
const (
	textUnavailable = "IPQualityScore is not answering right now. Try again in a few minutes."
	textCheckLogs   = "Try again later. If it keeps failing, an admin needs to check the bot's logs."
)

// userMessager is an error with a sentence written for Slack users.
type userMessager interface {
	error
	UserMessage() string
}

// ErrorText returns what to tell a Slack user about a failed lookup: what
// failed and what to do next. It never includes err's own message, which is
// for logs and may contain internal details.
func ErrorText(err error) string {
	// Errors of the bot's own policies, such as a spend limit, carry their
	// own sentence for the user.
	if u, ok := errors.AsType[userMessager](err); ok {
		return u.UserMessage()
	}

	switch ipqs.KindOf(err) {
	case ipqs.ErrInvalidKey:
		return "IPQualityScore rejected the API key. An admin needs to check IPQS_API_KEY."
	case ipqs.ErrInsufficientCredits:
		return "The IPQualityScore account is out of credits, or its API key was deleted. An admin needs to add credits or set a new IPQS_API_KEY."
	case ipqs.ErrQuotaExceeded:
		return "The IPQualityScore account has used up its daily request quota. Try again tomorrow, or ask an admin to raise the quota."
	case ipqs.ErrInvalidInput:
		return "IPQualityScore could not read this as a valid " + inputName(err) + ". Check the value and try again."
	case ipqs.ErrRateLimited:
		return "IPQualityScore rate-limited the bot. Try again in a minute."
	case ipqs.ErrServer, ipqs.ErrTimeout, ipqs.ErrNetwork:
		return textUnavailable
	case ipqs.ErrBadResponse:
		return "IPQualityScore sent an answer the bot could not read. " + textCheckLogs
	case ipqs.ErrAPI:
		return "IPQualityScore could not complete the lookup. " + textCheckLogs
	}

	switch {
	case err == nil:
		return "The lookup returned no result. " + textCheckLogs
	case errors.Is(err, context.DeadlineExceeded):
		return textUnavailable
	case errors.Is(err, context.Canceled):
		return "The lookup was stopped before it finished, perhaps because the bot is restarting. Try again in a minute."
	}
	return "The lookup failed. " + textCheckLogs
}

// shortMessager is an error with a few words for a one-line summary.
type shortMessager interface {
	error
	ShortMessage() string
}

// ShortError returns a few words on why a lookup failed, for a one-line
// summary, or "" when there is nothing short and useful to say. Like
// ErrorText, it never includes err's own message.
func ShortError(err error) string {
	if s, ok := errors.AsType[shortMessager](err); ok {
		return s.ShortMessage()
	}
	switch ipqs.KindOf(err) {
	case ipqs.ErrInvalidKey:
		return "API key rejected"
	case ipqs.ErrInsufficientCredits:
		return "out of credits"
	case ipqs.ErrQuotaExceeded:
		return "daily quota used up"
	case ipqs.ErrInvalidInput:
		return "not a valid " + inputName(err)
	case ipqs.ErrRateLimited:
		return "rate-limited by IPQualityScore"
	case ipqs.ErrServer, ipqs.ErrTimeout, ipqs.ErrNetwork:
		return "IPQualityScore not answering"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "IPQualityScore not answering"
	}
	return ""
}

// inputName returns what the failed call of err expected, such as "IP
// address".
func inputName(err error) string {
	if e, ok := errors.AsType[*ipqs.Error](err); ok {
		switch ipqs.Kind(e.Op) {
		case ipqs.KindIP:
			return "IP address"
		case ipqs.KindURL:
			return "URL or domain"
		case ipqs.KindEmail:
			return "email address"
		}
	}
	return "indicator"
}

// errorRequestID returns IPQS's request_id carried by err, or "".
func errorRequestID(err error) string {
	if e, ok := errors.AsType[*ipqs.Error](err); ok {
		return e.RequestID
	}
	return ""
}

// Problem renders an error card: what went wrong and what to do about it.
// Double-quoted parts of what and todo, such as values a user typed, are
// shown as code spans so that they cannot become links. Callers should
// therefore quote any URL or domain they include.
func Problem(what, todo string) Message {
	what = truncate(oneLine(what), maxProblemText)
	todo = truncate(oneLine(todo), maxProblemText)
	if what == "" {
		what = "Something went wrong"
	}

	text := "⚠️ *" + quoted(what) + "*"
	if todo != "" {
		text += "\n" + quoted(todo)
	}
	return Message{
		Text:   "ipqsbot: " + quoted(truncate(what, maxHeader)),
		Blocks: []slack.Block{slack.NewSectionBlock(mrkdwn(text), nil, nil)},
	}
}

// Denied renders the refusal of a user the access settings exclude. setting
// names the admin setting that decides, such as ALLOWED_USERS.
func Denied(setting string) Message {
	return Problem("Sorry, you are not allowed to run IPQualityScore lookups with this bot.",
		"An admin of the bot decides this with "+setting+". Ask them to add you if you need it.")
}

// Notice renders a short message from the bot to admins, such as a warning
// that credits are low.
func Notice(text string) Message {
	text = truncate(oneLine(text), maxProblemText)
	return Message{
		Text: text,
		Blocks: []slack.Block{
			slack.NewSectionBlock(mrkdwn("⚠️ "+Escape(text)), nil, nil),
		},
	}
}

// PostFailed renders the card sent to a user, in a message only they see,
// when the answer to their request could not be posted in the channel.
// Errors with a sentence for the user, such as a full reply queue, supply
// what to do; err's own message is never shown.
func PostFailed(err error) Message {
	todo := "Try again in a minute. If it keeps failing, an admin needs to check the bot's logs."
	if u, ok := errors.AsType[userMessager](err); ok {
		todo = u.UserMessage()
	}
	return Problem("The answer to your request could not be posted in this channel", todo)
}
