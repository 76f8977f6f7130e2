package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ipqsbot/ipqsbot/internal/ipqsfake"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
	"github.com/ipqsbot/ipqsbot/internal/testredis"
)

// TestReplicasShareOneLookup runs two bots on one Redis, each behind its
// own Socket Mode connection, and sends 50 messages naming the same 10 new
// indicators to both at once: IPQS must be called once per indicator.
func TestReplicasShareOneLookup(t *testing.T) {
	// A database of its own, emptied first, keeps other tests' keys out.
	opts, err := redis.ParseURL(testredis.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	opts.DB = 7
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush the test database: %v", err)
	}
	redisURL := fmt.Sprintf("redis://%s/7", opts.Addr)

	fake := ipqsfake.New(testIPQSKey)
	defer fake.Close()
	fake.SetLatency(200 * time.Millisecond)

	var sims []*slacksim.Sim
	var logs []*syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, prefix := range []string{"A", "B"} {
		sim := slacksim.New(slacksim.Options{AppToken: testAppToken, BotToken: testBotToken, EventIDPrefix: prefix})
		defer sim.Close()
		sims = append(sims, sim)
		buf := &syncBuffer{}
		logs = append(logs, buf)
		env := envFunc(map[string]string{
			"SLACK_APP_TOKEN": testAppToken, "SLACK_BOT_TOKEN": testBotToken, "IPQS_API_KEY": testIPQSKey,
			"SLACK_API_URL": sim.APIURL(), "IPQS_BASE_URL": fake.URL(), "REDIS_URL": redisURL,
			"AUTO_ENRICH_KINDS": "url,domain,ip", "USER_LOOKUP_LIMIT": "unlimited", "METRICS_ADDR": "none",
		})
		wg.Go(func() {
			if code := run(ctx, nil, env, strings.NewReader(""), io.Discard, buf); code != exitOK {
				t.Errorf("replica %s exited %d:\n%s", prefix, code, buf.String())
			}
		})
	}
	defer func() {
		cancel()
		wg.Wait()
		for _, buf := range logs {
			assertNoSecrets(t, "replica logs", buf.String())
		}
	}()

	wait, cancelWait := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancelWait()
	for _, sim := range sims {
		if err := sim.WaitConnected(wait); err != nil {
			t.Fatalf("replica did not connect: %v", err)
		}
	}

	var indicators []string
	for i := range 10 {
		indicators = append(indicators, fmt.Sprintf("45.83.77.%d", 10+i))
	}
	text := "seen in the logs: " + strings.Join(indicators, " ")
	var send sync.WaitGroup
	for i := range 50 {
		sim := sims[i%2]
		send.Go(func() { sim.Message(fmt.Sprintf("C0REPL%03d", i), "U0RESPONDER", text) })
	}
	send.Wait()

	for _, sim := range sims {
		if _, err := sim.WaitPosts(wait, 25); err != nil {
			t.Fatalf("replies: %v (got %d)", err, len(sim.Posts()))
		}
	}
	for _, ip := range indicators {
		if n := fake.Calls("ip", ip); n != 1 {
			t.Errorf("IPQS calls for %s = %d, want exactly 1 across both replicas", ip, n)
		}
	}
	if n := fake.TotalCalls(); n != len(indicators) {
		t.Errorf("IPQS calls = %d for %d distinct indicators, want 1.00 per indicator", n, len(indicators))
	}
}
