package guard

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// MemberLister returns the user IDs of a Slack user group
// (usergroups.users.list, which needs the usergroups:read scope).
type MemberLister interface {
	UserGroupMembers(ctx context.Context, groupID string) ([]string, error)
}

// DefaultMembersTTL is how long group members are cached when
// AccessConfig.MembersTTL is 0.
const DefaultMembersTTL = 10 * time.Minute

// membersRetryDelay is the least time between a failed member fetch and the
// next attempt for that group, so an outage does not turn every check into
// a Web API call. It is shortened to the TTL when that is smaller.
const membersRetryDelay = 30 * time.Second

// membersFetchTimeout bounds one usergroups.users.list call.
const membersFetchTimeout = 10 * time.Second

// AccessConfig configures an Access.
type AccessConfig struct {
	// AllowedUsers are user IDs (U… or W…). With AllowedUsergroups also
	// empty, everyone in the home team may look up.
	AllowedUsers []string
	// AllowedUsergroups are user-group IDs (S…) whose members may look up.
	AllowedUsergroups []string
	// AllowExternalUsers lets users whose team differs from HomeTeamID look
	// up. They must still pass AllowedUsers and AllowedUsergroups when
	// either is set.
	AllowExternalUsers bool
	// HomeTeamID is the bot's team, from auth.test. When it is empty, every
	// user with a team ID counts as external.
	HomeTeamID string
	// MembersTTL is how long group members are cached. 0 means
	// DefaultMembersTTL.
	MembersTTL time.Duration
	// Now returns the current time. nil means time.Now.
	Now func() time.Time
}

// Denial is the reason a user may not run lookups.
type Denial struct {
	// Reason is "external_user" or "not_allowed".
	Reason string
	// Setting names the admin setting that decides: "ALLOW_EXTERNAL_USERS"
	// or "ALLOWED_USERS / ALLOWED_USERGROUPS".
	Setting string
}

// The Denial values that Check returns.
var (
	denyExternal   = Denial{Reason: "external_user", Setting: "ALLOW_EXTERNAL_USERS"}
	denyNotAllowed = Denial{Reason: "not_allowed", Setting: "ALLOWED_USERS / ALLOWED_USERGROUPS"}
)

// Access decides who may run lookups. It caches the members of each allowed
// user group and is safe for concurrent use.
type Access struct {
	cfg    AccessConfig
	users  map[string]bool
	groups MemberLister
	log    *slog.Logger
	now    func() time.Time
	ttl    time.Duration
	flight singleflight.Group

	mu      sync.Mutex
	members map[string]*groupMembers
}

// groupMembers is the cached member list of one user group.
type groupMembers struct {
	// ids is the last list fetched successfully, nil before the first.
	ids       map[string]bool
	fetchedAt time.Time
	// failedAt is when the last fetch failed, zero when it succeeded.
	failedAt time.Time
}

// NewAccess returns an Access for cfg. groups may be nil when
// cfg.AllowedUsergroups is empty. A nil log discards messages.
func NewAccess(cfg AccessConfig, groups MemberLister, log *slog.Logger) *Access {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Access{
		cfg:     cfg,
		users:   make(map[string]bool, len(cfg.AllowedUsers)),
		groups:  groups,
		log:     log,
		now:     cfg.Now,
		ttl:     cfg.MembersTTL,
		members: make(map[string]*groupMembers),
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.ttl <= 0 {
		a.ttl = DefaultMembersTTL
	}
	for _, id := range cfg.AllowedUsers {
		a.users[id] = true
	}
	if cfg.HomeTeamID == "" && !cfg.AllowExternalUsers {
		log.Warn("home team unknown: users with a team ID are treated as external and denied")
	}
	return a
}

// Check returns nil when userID of team userTeamID may run lookups, or the
// Denial that stops them. An empty userTeamID counts as the home team. When
// a user group's members cannot be fetched, Check uses the last list it
// fetched, and without one it treats the user as no member.
func (a *Access) Check(ctx context.Context, userID, userTeamID string) *Denial {
	if userTeamID != "" && userTeamID != a.cfg.HomeTeamID && !a.cfg.AllowExternalUsers {
		d := denyExternal
		return &d
	}

	if len(a.cfg.AllowedUsers) == 0 && len(a.cfg.AllowedUsergroups) == 0 {
		return nil
	}
	if a.users[userID] {
		return nil
	}
	for _, group := range a.cfg.AllowedUsergroups {
		if a.isMember(ctx, group, userID) {
			return nil
		}
	}
	d := denyNotAllowed
	return &d
}

// isMember reports whether userID is in the cached or freshly fetched member
// list of group.
func (a *Access) isMember(ctx context.Context, group, userID string) bool {
	now := a.now()

	a.mu.Lock()
	g := a.members[group]
	if g == nil {
		g = &groupMembers{}
		a.members[group] = g
	}
	fresh := g.ids != nil && g.failedAt.IsZero() && now.Sub(g.fetchedAt) < a.ttl
	waiting := !g.failedAt.IsZero() && now.Sub(g.failedAt) < min(a.ttl, membersRetryDelay)
	ids := g.ids
	a.mu.Unlock()

	if fresh || waiting {
		return ids[userID]
	}

	// The shared fetch runs without the first caller's cancellation, so one
	// caller giving up does not fail the fetch for the others.
	ch := a.flight.DoChan(group, func() (any, error) {
		return a.refresh(context.WithoutCancel(ctx), group), nil
	})
	select {
	case <-ctx.Done():
		a.mu.Lock()
		ids = g.ids
		a.mu.Unlock()
	case r := <-ch:
		ids = r.Val.(map[string]bool)
	}
	return ids[userID]
}

// refresh fetches the members of group and stores them. It returns the list
// to use: the new one, or after a failure the last good one, or nil.
func (a *Access) refresh(ctx context.Context, group string) map[string]bool {
	ids, err := a.fetch(ctx, group)
	now := a.now()

	a.mu.Lock()
	defer a.mu.Unlock()

	g := a.members[group]
	if err == nil {
		g.ids, g.fetchedAt, g.failedAt = ids, now, time.Time{}
		return ids
	}

	g.failedAt = now
	if g.ids != nil {
		a.log.Warn("user group members not refreshed, so the last list stays in use",
			"usergroup", group, "fetched_at", g.fetchedAt, "err", err)
	} else {
		a.log.Error("user group members not fetched, so its members are denied until a fetch succeeds",
			"usergroup", group, "err", err)
	}
	return g.ids
}

var errNoMemberLister = errors.New("guard: no member lister configured")

func (a *Access) fetch(ctx context.Context, group string) (map[string]bool, error) {
	if a.groups == nil {
		return nil, errNoMemberLister
	}

	ctx, cancel := context.WithTimeout(ctx, membersFetchTimeout)
	defer cancel()

	list, err := a.groups.UserGroupMembers(ctx, group)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(list))
	for _, id := range list {
		ids[id] = true
	}
	return ids, nil
}
