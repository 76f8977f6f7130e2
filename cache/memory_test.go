package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/ipqsfake"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

// BenchmarkMemoryPerEntry reports the heap that one cached result takes,
// with the IPQS bodies of ip_clean.json, url_phishing.json and
// email_valid.json from internal/ipqsfake in turn: the decoded fields, the
// key and the bookkeeping of the memory tier. Run it
// with -benchtime 1x; the number depends on the bodies IPQS returns.
func BenchmarkMemoryPerEntry(b *testing.B) {
	const entries = 30_000
	kinds := []struct {
		kind    ipqs.Kind
		fixture string
	}{
		{ipqs.KindIP, "ip_clean.json"},
		{ipqs.KindURL, "url_phishing.json"},
		{ipqs.KindEmail, "email_valid.json"},
	}
	bodies := make([][]byte, len(kinds))
	for i, k := range kinds {
		body, err := ipqsfake.Fixture(k.fixture)
		if err != nil {
			b.Fatal(err)
		}
		bodies[i] = body
	}

	for range b.N {
		i := 0
		next := lookerFunc(func(ctx context.Context, req ipqs.Request) (*ipqs.Result, error) {
			k := i % len(kinds)
			i++
			return decodedResult(req, bodies[k])
		})
		c := New(next, Config{TTL: ttls, MaxEntries: entries})

		before := heapInUse()
		for n := range entries {
			k := kinds[n%len(kinds)]
			req := ipqs.Request{Kind: k.kind, Value: fmt.Sprintf("value-%d.example.com", n)}
			if _, err := c.Lookup(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
		after := heapInUse()

		if c.Len() != entries {
			b.Fatalf("Len = %d, want %d", c.Len(), entries)
		}
		b.ReportMetric(float64(after-before)/entries, "bytes/entry")
		runtime.KeepAlive(c)
	}
}

// decodedResult returns a result as the IPQS client builds it: a copy of
// body and the typed fields decoded from it.
func decodedResult(req ipqs.Request, body []byte) (*ipqs.Result, error) {
	res := &ipqs.Result{Kind: req.Kind, Value: req.Value, Raw: append([]byte(nil), body...), FetchedAt: time.Now()}
	var err error
	switch req.Kind {
	case ipqs.KindIP:
		res.IP = new(ipqs.IPResult)
		err = json.Unmarshal(body, res.IP)
	case ipqs.KindURL:
		res.URL = new(ipqs.URLResult)
		err = json.Unmarshal(body, res.URL)
	case ipqs.KindEmail:
		res.Email = new(ipqs.EmailResult)
		err = json.Unmarshal(body, res.Email)
	}
	return res, err
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
