package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/ipqsbot/ipqsbot/internal/config"
)

func TestSetMemoryLimit(t *testing.T) {
	cfg := &config.Config{CacheMaxEntries: 100_000}
	log := slog.New(slog.DiscardHandler)
	old := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	t.Run("unset", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "") // restores the variable after the test
		os.Unsetenv("GOMEMLIMIT")
		debug.SetMemoryLimit(math.MaxInt64)
		setMemoryLimit(cfg, log)
		if got := debug.SetMemoryLimit(-1); got != cfg.MemoryLimit() {
			t.Errorf("memory limit = %d, want %d from the cache size", got, cfg.MemoryLimit())
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Setenv("GOMEMLIMIT", "off")
		debug.SetMemoryLimit(math.MaxInt64)
		setMemoryLimit(cfg, log)
		if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
			t.Errorf("memory limit = %d with GOMEMLIMIT=off, want none", got)
		}
	})
}
