package metrics

import (
	"context"

	"github.com/ipqsbot/ipqsbot/internal/audit"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// Looker runs one lookup. *ipqs.Client implements it.
type Looker interface {
	Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error)
}

// CountIPQS returns a Looker that counts each call to next by API, and each
// error by its class.
func (m *Metrics) CountIPQS(next Looker) Looker {
	return ipqsCounter{next: next, m: m}
}

type ipqsCounter struct {
	next Looker
	m    *Metrics
}

func (c ipqsCounter) Lookup(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
	c.m.IPQSCall(string(req.Kind))
	res, err := c.next.Lookup(ctx, req)
	if err != nil {
		class := string(ipqs.KindOf(err))
		if class == "" {
			class = "other"
		}
		c.m.IPQSError(class)
	}
	return res, err
}

// Auditor records lookups. *audit.Log implements it.
type Auditor interface {
	Lookup(ctx context.Context, r audit.Record)
}

// CountLookups returns an Auditor that counts every audited lookup by kind
// and outcome before passing it to next.
func (m *Metrics) CountLookups(next Auditor) Auditor {
	return lookupCounter{next: next, m: m}
}

type lookupCounter struct {
	next Auditor
	m    *Metrics
}

func (c lookupCounter) Lookup(ctx context.Context, r audit.Record) {
	kind := r.Kind
	if kind == "" {
		kind = "none"
	}
	c.m.Lookup(kind, r.Outcome)
	c.next.Lookup(ctx, r)
}
