package guard

import "slices"

// ChannelPolicy decides where pasted links are enriched without being asked.
// The zero value enriches in every channel the bot is in, except Slack
// Connect channels.
type ChannelPolicy struct {
	// Off turns unasked enrichment off everywhere (AUTO_ENRICH_CHANNELS=none).
	Off bool
	// Channels, when non-empty, are the only channel IDs enriched
	// (AUTO_ENRICH_CHANNELS).
	Channels []string
	// AllowShared allows Slack Connect channels
	// (AUTO_ENRICH_SHARED_CHANNELS=true). A shared channel listed in
	// Channels still needs it.
	AllowShared bool
}

// AutoEnrich reports whether links pasted in channel are enriched unasked.
// extShared is whether the channel is shared with another organisation
// through Slack Connect. When it returns false, the reason is a short phrase
// for debug logs.
func (p ChannelPolicy) AutoEnrich(channel string, extShared bool) (bool, string) {
	switch {
	case p.Off:
		return false, "unasked enrichment is off (AUTO_ENRICH_CHANNELS=none)"
	case len(p.Channels) > 0 && !slices.Contains(p.Channels, channel):
		return false, "channel not in AUTO_ENRICH_CHANNELS"
	case extShared && !p.AllowShared:
		return false, "Slack Connect channel (AUTO_ENRICH_SHARED_CHANNELS is false)"
	}
	return true, ""
}
