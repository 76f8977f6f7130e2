package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/ipqsbot/ipqsbot/formatter"
	"github.com/ipqsbot/ipqsbot/guard"
	"github.com/ipqsbot/ipqsbot/indicator"
	"github.com/ipqsbot/ipqsbot/internal/audit"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// lookupsInParallel bounds the IPQS calls of one request at a time.
const lookupsInParallel = 8

// request runs an explicit request: a slash command, mention or DM.
// userTeam is the requester's team, and links are the message's rich_text
// link elements, if any.
func (h *Handler) request(ctx context.Context, log *slog.Logger, from origin, userTeam, text string, links []indicator.Link) formatter.Message {
	cmd, err := ParseCommand(text)
	if err != nil {
		log.Info("request rejected", "reason", err.Error())
		return formatter.Problem(err.Error(), "Send `/ipqs help` for the forms and their parameters.")
	}
	if cmd.Action == ActionHelp {
		return formatter.Usage()
	}

	if denial := h.checkAccess(ctx, from.user, userTeam); denial != nil {
		log.Info("request rejected: user not allowed", "reason", denial.Reason, "user_team", userTeam)
		h.audit(ctx, from, audit.Record{Outcome: audit.OutcomeDenied, Detail: denial.Reason})
		return formatter.Denied(denial.Setting)
	}

	switch cmd.Action {
	case ActionStatus:
		return h.status(ctx, log)
	case ActionLookup:
		items := h.lookupAll(ctx, log, from, []indicator.Indicator{cmd.Indicator}, cmd.Params, h.cfg.MaxIndicatorsRequest)
		return formatter.Results(items, h.now())
	}

	found := indicator.ExtractMessage(cmd.Text, links)
	if len(found) == 0 {
		return formatter.Problem(noIndicatorWhat, noIndicatorTodo)
	}
	items := h.lookupAll(ctx, log, from, found, nil, h.cfg.MaxIndicatorsRequest)
	return formatter.Results(items, h.now())
}

// status checks the connection to IPQS and feeds the credit watch.
func (h *Handler) status(ctx context.Context, log *slog.Logger) formatter.Message {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()

	acct, err := h.cfg.Account.Account(ctx)
	if err != nil {
		log.Warn("account check failed", "err", err)
		return formatter.Status(nil, err, h.now())
	}
	log.Info("account checked", "credits", acct.Credits.Value, "request_id", acct.RequestID)
	if h.cfg.Credits != nil && acct.Credits.Valid {
		h.cfg.Credits.Observe(ctx, acct.Credits.Value)
	}
	return formatter.Status(acct, nil, h.now())
}

// autoEnrich looks up the indicators of the enabled kinds in a pasted
// message. It returns false when nothing in the message is worth a reply.
func (h *Handler) autoEnrich(ctx context.Context, log *slog.Logger, from origin, text string, links []indicator.Link) (formatter.Message, bool) {
	var found []indicator.Indicator
	for _, ind := range indicator.ExtractMessage(text, links) {
		if slices.Contains(h.cfg.AutoEnrichKinds, ind.Kind) {
			found = append(found, ind)
		}
	}
	// Skipped indicators alone (a private address, a Slack link) are noise
	// in a channel where nobody asked the bot.
	if !slices.ContainsFunc(found, func(ind indicator.Indicator) bool { return h.skipReason(ind) == "" }) {
		return formatter.Message{}, false
	}

	items := h.lookupAll(ctx, log, from, found, nil, h.cfg.MaxIndicatorsAuto)

	// When every lookup failed, the cause is almost always the bot's own
	// (a rejected key, no credits, IPQS down, a spend limit), and an error
	// card under every pasted link would repeat it in each thread. The logs
	// and the audit log have each error.
	if !slices.ContainsFunc(items, func(it formatter.Item) bool { return it.Result != nil }) {
		log.Warn("no reply to pasted message: every lookup failed")
		return formatter.Message{}, false
	}
	return formatter.Results(items, h.now()), true
}

// skipReason returns why ind is not sent to IPQS, or "": the indicator's own
// reason, such as a private address, or the domain policy's.
func (h *Handler) skipReason(ind indicator.Indicator) string {
	return h.cfg.Domains.Check(ind).Skipped
}

// lookupAll looks up every indicator that may be sent to IPQS, at most limit
// of them and a few at a time, and returns the outcomes in input order.
// Unasked enrichment sends URLs without their query, fragment and
// credentials; requests send them without credentials only.
func (h *Handler) lookupAll(ctx context.Context, log *slog.Logger, from origin, inds []indicator.Indicator, params ipqs.Params, limit int) []formatter.Item {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	ctx = guard.WithUser(ctx, from.user)

	items := make([]formatter.Item, len(inds))
	sem := make(chan struct{}, lookupsInParallel)
	var wg sync.WaitGroup

	lookups := 0
	for i, ind := range inds {
		ind.Skipped = h.skipReason(ind)
		if ind.Skipped == "" && lookups == limit {
			ind.Skipped = fmt.Sprintf("over the limit of %d lookups per message", limit)
		}
		items[i].Indicator = ind
		if ind.Skipped != "" {
			h.audit(ctx, from, audit.Record{Kind: string(ind.Kind), Indicator: ind.Redacted(), Outcome: audit.OutcomeSkipped, Detail: ind.Skipped})
			continue
		}
		lookups++

		value, removed := h.sendValue(ind, from.entry == audit.EntryAuto)
		if len(removed) > 0 {
			items[i].Sent, items[i].Removed = value, removed
		}

		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()

			req := ipqs.Request{Kind: APIKind(ind.Kind), Value: value, Params: params}
			res, err := h.cfg.Lookup.Lookup(ctx, req)
			items[i].Result, items[i].Err = res, err
			h.record(ctx, log, from, ind, value, res, err)
		})
	}
	wg.Wait()

	// A spend limit is personal: under a pasted link in a channel it is
	// listed as a skip, not shown as the user's limit card.
	if from.entry == audit.EntryAuto {
		for i := range items {
			if _, limited := errors.AsType[*guard.LimitError](items[i].Err); limited {
				items[i].Err = nil
				items[i].Indicator.Skipped = "lookup limit reached; ask with /ipqs later"
			}
		}
	}
	return items
}

// sendValue returns the value sent to IPQS for ind and the URL parts left
// out of it.
func (h *Handler) sendValue(ind indicator.Indicator, auto bool) (string, []string) {
	value := ind.LookupValue()
	var removed []string
	if ind.Kind == indicator.KindURL && strings.Contains(ind.Redacted(), "REDACTED@") {
		removed = append(removed, "credentials")
	}
	if auto && ind.Kind == indicator.KindURL {
		var stripped []string
		value, stripped = guard.StripURL(value)
		removed = append(removed, stripped...)
	}
	return value, removed
}

// record logs and audits the outcome of one lookup of ind, sent to IPQS as
// sent. The audit record names the indicator as sent, so that a query left
// out of an unasked lookup is not written down either.
func (h *Handler) record(ctx context.Context, log *slog.Logger, from origin, ind indicator.Indicator, sent string, res *ipqs.Result, err error) {
	shown := ind.Redacted()
	if ind.Kind == indicator.KindURL {
		shown = sent
	}
	r := audit.Record{Kind: string(ind.Kind), Indicator: shown}
	if err != nil {
		outcome := audit.OutcomeError
		if _, limited := errors.AsType[*guard.LimitError](err); limited {
			outcome = audit.OutcomeLimited
		}
		r.Outcome, r.Detail = outcome, err.Error()
		log.Warn("lookup failed", "kind", ind.Kind, "indicator", r.Indicator, "err", err)
		h.audit(ctx, from, r)
		return
	}

	r.Outcome, r.Cached, r.Verdict, r.RequestID = audit.OutcomeOK, res.Cached, formatter.Verdict(res), res.RequestID()
	log.Debug("lookup", "kind", ind.Kind, "indicator", r.Indicator, "cached", res.Cached, "verdict", r.Verdict, "request_id", r.RequestID)
	h.audit(ctx, from, r)
}

// audit completes r with its origin and writes it.
func (h *Handler) audit(ctx context.Context, from origin, r audit.Record) {
	if h.cfg.Audit == nil {
		return
	}
	r.Team, r.Channel, r.User, r.Entry = from.team, from.channel, from.user, from.entry
	h.cfg.Audit.Lookup(ctx, r)
}

// APIKind returns the IPQS API that checks indicators of kind k. Bare
// domains go to the URL scanner.
func APIKind(k indicator.Kind) ipqs.Kind {
	switch k {
	case indicator.KindIP:
		return ipqs.KindIP
	case indicator.KindEmail:
		return ipqs.KindEmail
	}
	return ipqs.KindURL
}
