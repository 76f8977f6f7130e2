package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookupRecord(t *testing.T) {
	var buf bytes.Buffer
	a := FromLogger(New(&buf))
	a.Lookup(context.Background(), Record{
		Team: "T1", Channel: "C1", User: "U1", Entry: EntryCommand, Kind: "ip",
		Indicator: "185.220.101.4", Outcome: OutcomeOK, Cached: true, Verdict: "abusive", RequestID: "r1",
	})

	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("record is not one JSON object: %v\n%s", err, buf.String())
	}
	want := map[string]any{
		"msg": "lookup", "log": "audit", "team": "T1", "channel": "C1", "user": "U1", "entry": "command",
		"kind": "ip", "indicator": "185.220.101.4", "outcome": "ok", "cache": "hit", "verdict": "abusive", "request_id": "r1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["time"]; !ok {
		t.Error("record has no time")
	}
}

func TestCacheWord(t *testing.T) {
	tests := []struct {
		r    Record
		want string
	}{
		{Record{Outcome: OutcomeOK, Cached: true}, "hit"},
		{Record{Outcome: OutcomeOK}, "miss"},
		{Record{Outcome: OutcomeError}, "miss"},
		{Record{Outcome: OutcomeSkipped}, "none"},
		{Record{Outcome: OutcomeLimited}, "none"},
	}
	for _, tt := range tests {
		if got := cacheWord(tt.r); got != tt.want {
			t.Errorf("cacheWord(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestOpenFileAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	for range 2 {
		a, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		a.Lookup(context.Background(), Record{Outcome: OutcomeOK})
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 2 {
		t.Errorf("lines = %d, want 2 (appended)", n)
	}

	if _, err := Open(filepath.Join(t.TempDir(), "missing", "audit.log")); err == nil {
		t.Error("Open of a path in a missing directory succeeded")
	}
}

func TestNilLogDiscards(t *testing.T) {
	var a *Log
	a.Lookup(context.Background(), Record{})
	if err := a.Close(); err != nil {
		t.Error(err)
	}
}
