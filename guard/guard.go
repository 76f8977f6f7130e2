// Package guard holds the admin controls around lookups: who may run them
// (Access), where pasted links are enriched unasked (ChannelPolicy), how many
// IPQualityScore credits the bot may spend (Limiter, CreditWatch), and what
// is never sent to IPQS (DomainPolicy, StripURL).
//
// The package has no Slack or HTTP code. It takes what it needs from Slack
// and IPQS through small interfaces (MemberLister, AccountReader, Notifier,
// Looker) that the caller implements.
package guard

import (
	"context"
	"strconv"

	"github.com/ipqsbot/ipqsbot/ipqs"
)

// Looker runs one lookup. *ipqs.Client and *cache.Cache implement it.
type Looker interface {
	Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error)
}

// formatCount returns n in decimal with a comma between groups of three
// digits, as in 20,000.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if n < 0 {
		sign, s = "-", s[1:]
	}
	if len(s) <= 3 {
		return sign + s
	}

	out := make([]byte, 0, len(s)+len(s)/3)
	first := len(s) % 3
	if first == 0 {
		first = 3
	}
	out = append(out, s[:first]...)
	for i := first; i < len(s); i += 3 {
		out = append(out, ',')
		out = append(out, s[i:i+3]...)
	}
	return sign + string(out)
}
