package dedupe

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFirstSeen(t *testing.T) {
	m := NewMemory(time.Minute)
	ctx := context.Background()

	if !m.FirstSeen(ctx, "event:Ev1") {
		t.Error("first call: got false, want true")
	}
	if m.FirstSeen(ctx, "event:Ev1") {
		t.Error("second call: got true, want false")
	}
	if !m.FirstSeen(ctx, "event:Ev2") {
		t.Error("other key: got false, want true")
	}
}

func TestFirstSeenConcurrent(t *testing.T) {
	m := NewMemory(time.Minute)
	var wins atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if m.FirstSeen(context.Background(), "msg:C1:1.0") {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("winners = %d, want 1", wins.Load())
	}
}

func TestFirstSeenForgets(t *testing.T) {
	m := NewMemory(20 * time.Millisecond)
	ctx := context.Background()
	m.FirstSeen(ctx, "k")
	time.Sleep(40 * time.Millisecond)
	if !m.FirstSeen(ctx, "k") {
		t.Error("after the TTL: got false, want the key forgotten")
	}
}
