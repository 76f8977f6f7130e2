package handlers

import (
	"slices"
	"strings"
)

// ignoreReason returns why ev needs no reply, or "".
func (h *Handler) ignoreReason(ev Event) string {
	switch {
	case ev.Type != "message" && ev.Type != "app_mention":
		return "event type " + ev.Type
	case ev.User != "" && ev.User == h.cfg.BotUserID, ev.BotID != "" && ev.BotID == h.cfg.BotID:
		return "own message"
	case ev.BotID != "" || ev.Subtype == "bot_message":
		return "bot message"
	case ev.Hidden:
		return "hidden message"
	case ev.Edited:
		return "edited message"
	case ev.Subtype != "" && !slices.Contains([]string{"thread_broadcast", "file_share", "me_message"}, ev.Subtype):
		return "subtype " + ev.Subtype
	case ev.User == "":
		return "no user"
	}
	return ""
}

// isRequest reports whether ev is a request to the bot: a mention, a
// message that mentions it, or a direct message.
func (h *Handler) isRequest(ev Event) bool {
	return ev.Type == "app_mention" || ev.ChannelType == "im" ||
		(h.cfg.BotUserID != "" && strings.Contains(ev.Text, "<@"+h.cfg.BotUserID))
}

// stripMention removes mentions of the bot, so "@ipqs help" reads as "help".
func (h *Handler) stripMention(text string) string {
	if h.cfg.BotUserID == "" {
		return text
	}
	text = strings.ReplaceAll(text, "<@"+h.cfg.BotUserID+">", " ")
	// The older <@U…|name> form.
	for {
		i := strings.Index(text, "<@"+h.cfg.BotUserID+"|")
		if i < 0 {
			break
		}
		j := strings.IndexByte(text[i:], '>')
		if j < 0 {
			break
		}
		text = text[:i] + " " + text[i+j+1:]
	}
	return strings.TrimSpace(text)
}
