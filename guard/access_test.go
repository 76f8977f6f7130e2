package guard

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeLister serves user groups from a map, counts calls, and fails while
// err is set. With release set, each call waits for it to be closed.
type fakeLister struct {
	calls   atomic.Int64
	release chan struct{}

	mu     sync.Mutex
	groups map[string][]string
	err    error
}

func (f *fakeLister) UserGroupMembers(ctx context.Context, groupID string) ([]string, error) {
	f.calls.Add(1)
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.groups[groupID], nil
}

func (f *fakeLister) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func reasonOf(d *Denial) string {
	if d == nil {
		return ""
	}
	return d.Reason
}

func TestAccessCheck(t *testing.T) {
	lister := &fakeLister{groups: map[string][]string{
		"S0SEC": {"U0ALICE", "W0BOB"},
		"S0OPS": {"U0CAROL"},
	}}
	tests := []struct {
		name   string
		cfg    AccessConfig
		user   string
		team   string
		reason string
	}{
		{"open to home team", AccessConfig{HomeTeamID: "T0HOME"}, "U0ANY", "T0HOME", ""},
		{"empty team is home", AccessConfig{HomeTeamID: "T0HOME"}, "U0ANY", "", ""},
		{"external denied", AccessConfig{HomeTeamID: "T0HOME"}, "U0EXT", "T0OTHER", "external_user"},
		{"external allowed", AccessConfig{HomeTeamID: "T0HOME", AllowExternalUsers: true}, "U0EXT", "T0OTHER", ""},
		{"unknown home team denies teams", AccessConfig{}, "U0ANY", "T0HOME", "external_user"},
		{"unknown home team allows empty team", AccessConfig{}, "U0ANY", "", ""},
		{"listed user", AccessConfig{HomeTeamID: "T0HOME", AllowedUsers: []string{"U0DAVE"}}, "U0DAVE", "T0HOME", ""},
		{"unlisted user", AccessConfig{HomeTeamID: "T0HOME", AllowedUsers: []string{"U0DAVE"}}, "U0EVE", "T0HOME", "not_allowed"},
		{"group member", AccessConfig{HomeTeamID: "T0HOME", AllowedUsergroups: []string{"S0SEC"}}, "W0BOB", "T0HOME", ""},
		{"member of second group", AccessConfig{HomeTeamID: "T0HOME", AllowedUsergroups: []string{"S0SEC", "S0OPS"}}, "U0CAROL", "T0HOME", ""},
		{"not a member", AccessConfig{HomeTeamID: "T0HOME", AllowedUsergroups: []string{"S0SEC"}}, "U0CAROL", "T0HOME", "not_allowed"},
		{"user list or group", AccessConfig{HomeTeamID: "T0HOME", AllowedUsers: []string{"U0DAVE"}, AllowedUsergroups: []string{"S0OPS"}}, "U0CAROL", "T0HOME", ""},
		{"external must be listed too", AccessConfig{HomeTeamID: "T0HOME", AllowExternalUsers: true, AllowedUsers: []string{"U0DAVE"}}, "U0EXT", "T0OTHER", "not_allowed"},
		{"external listed", AccessConfig{HomeTeamID: "T0HOME", AllowExternalUsers: true, AllowedUsers: []string{"U0EXT"}}, "U0EXT", "T0OTHER", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAccess(tt.cfg, lister, nil)
			if got := reasonOf(a.Check(context.Background(), tt.user, tt.team)); got != tt.reason {
				t.Errorf("Check(%q, %q) reason = %q, want %q", tt.user, tt.team, got, tt.reason)
			}
		})
	}
}

func TestAccessDenialSetting(t *testing.T) {
	a := NewAccess(AccessConfig{HomeTeamID: "T0HOME", AllowedUsers: []string{"U0DAVE"}}, nil, nil)

	external := a.Check(context.Background(), "U0DAVE", "T0OTHER")
	if external == nil || external.Setting != "ALLOW_EXTERNAL_USERS" {
		t.Errorf("external denial = %+v, want setting ALLOW_EXTERNAL_USERS", external)
	}
	unlisted := a.Check(context.Background(), "U0EVE", "T0HOME")
	if unlisted == nil || unlisted.Setting != "ALLOWED_USERS / ALLOWED_USERGROUPS" {
		t.Errorf("not-allowed denial = %+v, want setting ALLOWED_USERS / ALLOWED_USERGROUPS", unlisted)
	}
}

func TestAccessMembersCached(t *testing.T) {
	clock := newFakeClock()
	lister := &fakeLister{groups: map[string][]string{"S0SEC": {"U0ALICE"}}}
	a := NewAccess(AccessConfig{
		HomeTeamID:        "T0HOME",
		AllowedUsergroups: []string{"S0SEC"},
		MembersTTL:        5 * time.Minute,
		Now:               clock.Now,
	}, lister, nil)
	ctx := context.Background()

	for range 100 {
		if d := a.Check(ctx, "U0ALICE", "T0HOME"); d != nil {
			t.Fatalf("member denied: %+v", d)
		}
		if d := a.Check(ctx, "U0MALLORY", "T0HOME"); d == nil {
			t.Fatal("non-member allowed")
		}
	}
	if n := lister.calls.Load(); n != 1 {
		t.Fatalf("member fetches within the TTL = %d, want 1", n)
	}

	clock.Advance(4 * time.Minute)
	a.Check(ctx, "U0ALICE", "T0HOME")
	if n := lister.calls.Load(); n != 1 {
		t.Errorf("member fetches before the TTL ends = %d, want 1", n)
	}

	lister.mu.Lock()
	lister.groups["S0SEC"] = []string{"U0MALLORY"}
	lister.mu.Unlock()
	clock.Advance(time.Minute)
	if d := a.Check(ctx, "U0MALLORY", "T0HOME"); d != nil {
		t.Errorf("new member denied after refresh: %+v", d)
	}
	if d := a.Check(ctx, "U0ALICE", "T0HOME"); d == nil {
		t.Error("removed member allowed after refresh")
	}
	if n := lister.calls.Load(); n != 2 {
		t.Errorf("member fetches after the TTL = %d, want 2", n)
	}
}

func TestAccessDefaultTTL(t *testing.T) {
	clock := newFakeClock()
	lister := &fakeLister{groups: map[string][]string{"S0SEC": {"U0ALICE"}}}
	a := NewAccess(AccessConfig{AllowedUsergroups: []string{"S0SEC"}, Now: clock.Now}, lister, nil)
	ctx := context.Background()

	a.Check(ctx, "U0ALICE", "")
	clock.Advance(DefaultMembersTTL - time.Second)
	a.Check(ctx, "U0ALICE", "")
	if n := lister.calls.Load(); n != 1 {
		t.Errorf("fetches before the default TTL = %d, want 1", n)
	}
	clock.Advance(time.Second)
	a.Check(ctx, "U0ALICE", "")
	if n := lister.calls.Load(); n != 2 {
		t.Errorf("fetches at the default TTL = %d, want 2", n)
	}
}

func TestAccessConcurrentRefreshCollapsed(t *testing.T) {
	lister := &fakeLister{
		groups:  map[string][]string{"S0SEC": {"U0ALICE"}},
		release: make(chan struct{}),
	}
	a := NewAccess(AccessConfig{AllowedUsergroups: []string{"S0SEC"}}, lister, nil)

	var denied atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if a.Check(context.Background(), "U0ALICE", "") != nil {
				denied.Add(1)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(lister.release)
	wg.Wait()

	if n := lister.calls.Load(); n != 1 {
		t.Errorf("member fetches = %d, want 1", n)
	}
	if n := denied.Load(); n != 0 {
		t.Errorf("denied checks = %d, want 0", n)
	}
}

func TestAccessFailsClosed(t *testing.T) {
	clock := newFakeClock()
	lister := &fakeLister{groups: map[string][]string{"S0SEC": {"U0ALICE"}}, err: errors.New("slack: missing_scope")}
	log, logs := newTestLogger()
	a := NewAccess(AccessConfig{AllowedUsergroups: []string{"S0SEC"}, Now: clock.Now}, lister, log)
	ctx := context.Background()

	d := a.Check(ctx, "U0ALICE", "")
	if reasonOf(d) != "not_allowed" {
		t.Fatalf("reason after a failed first fetch = %q, want not_allowed", reasonOf(d))
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "missing_scope") {
		t.Errorf("log lacks the fetch error:\n%s", logs)
	}

	lister.setErr(nil)
	a.Check(ctx, "U0ALICE", "")
	if n := lister.calls.Load(); n != 1 {
		t.Errorf("fetches right after a failure = %d, want 1", n)
	}

	clock.Advance(membersRetryDelay)
	if d := a.Check(ctx, "U0ALICE", ""); d != nil {
		t.Errorf("member denied after a successful retry: %+v", d)
	}
	if n := lister.calls.Load(); n != 2 {
		t.Errorf("fetches after the retry delay = %d, want 2", n)
	}
}

func TestAccessKeepsLastGoodList(t *testing.T) {
	clock := newFakeClock()
	lister := &fakeLister{groups: map[string][]string{"S0SEC": {"U0ALICE"}}}
	log, logs := newTestLogger()
	a := NewAccess(AccessConfig{AllowedUsergroups: []string{"S0SEC"}, MembersTTL: time.Minute, Now: clock.Now}, lister, log)
	ctx := context.Background()

	if d := a.Check(ctx, "U0ALICE", ""); d != nil {
		t.Fatalf("member denied: %+v", d)
	}
	lister.setErr(errors.New("slack: ratelimited"))
	clock.Advance(2 * time.Minute)

	if d := a.Check(ctx, "U0ALICE", ""); d != nil {
		t.Errorf("member denied while the refresh fails: %+v", d)
	}
	if d := a.Check(ctx, "U0MALLORY", ""); d == nil {
		t.Error("non-member allowed while the refresh fails")
	}
	if n := lister.calls.Load(); n != 2 {
		t.Errorf("fetches = %d, want 2", n)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "ratelimited") {
		t.Errorf("log lacks the refresh warning:\n%s", logs)
	}
}

func TestAccessWithoutListerDenies(t *testing.T) {
	log, logs := newTestLogger()
	a := NewAccess(AccessConfig{AllowedUsergroups: []string{"S0SEC"}}, nil, log)
	if reasonOf(a.Check(context.Background(), "U0ALICE", "")) != "not_allowed" {
		t.Error("group check without a member lister did not deny")
	}
	if !strings.Contains(logs.String(), "no member lister") {
		t.Errorf("log lacks the cause:\n%s", logs)
	}
}

func TestAccessCanceledWaitDenies(t *testing.T) {
	lister := &fakeLister{
		groups:  map[string][]string{"S0SEC": {"U0ALICE"}},
		release: make(chan struct{}),
	}
	defer close(lister.release)
	a := NewAccess(AccessConfig{AllowedUsergroups: []string{"S0SEC"}}, lister, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if reasonOf(a.Check(ctx, "U0ALICE", "")) != "not_allowed" {
		t.Error("check that gave up waiting without a list did not deny")
	}
	if waited := time.Since(start); waited > time.Second {
		t.Errorf("check waited %s after its context ended", waited)
	}
}
