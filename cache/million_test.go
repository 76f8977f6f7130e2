package cache_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipqsbot/ipqsbot/cache"
	"github.com/ipqsbot/ipqsbot/internal/config"
	"github.com/ipqsbot/ipqsbot/internal/ipqsfake"
	"github.com/ipqsbot/ipqsbot/ipqs"
)

const (
	// millionLookups is the number of distinct IP addresses looked up.
	millionLookups = 1_000_000
	// millionWorkers is the number of goroutines that call Lookup at once.
	millionWorkers = 16
	// fakeProcessEnv makes the test binary run TestIPQSFakeProcess as the
	// fake IPQS server of BenchmarkMillionDistinct.
	fakeProcessEnv = "IPQSBOT_BENCH_IPQSFAKE_PROCESS"
	fakeKey        = "bench-key"
)

// BenchmarkMillionDistinct looks up 1,000,000 distinct IPv4 addresses
// through a Cache at the default entry limit in front of the real IPQS
// client, from 16 goroutines, and reports the peak RSS of the process
// (VmHWM) in MB of 10^6 bytes. It fails if the cache ever holds more
// entries than the limit. The cache and client are built from the
// configuration that the bot loads with no cache variables set, and the
// process gets the soft memory limit that the bot sets, unless GOMEMLIMIT
// is set. The breaker, rate limits and metrics that the bot puts between
// them are left out.
//
// The fake IPQS server runs in a child process, a second copy of this test
// binary, because ipqsfake records every request it receives: in this
// process its records of a million requests would outweigh the cache. The
// peak RSS therefore covers the cache, the IPQS client with its HTTP
// connections, and the test binary itself, so it is an upper bound for the
// cache layer.
//
// VmHWM exists on Linux only. Each run returns freed memory to the OS and
// resets VmHWM through /proc/self/clear_refs, so a later run in the same
// process measures its peak from the RSS it starts with (start_RSS_MB),
// not from an earlier run's peak. Run it with -benchtime 1x and a -timeout
// longer than the run, which took about 2.5 minutes on 2 cores.
func BenchmarkMillionDistinct(b *testing.B) {
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		b.Skipf("needs Linux /proc to read peak RSS: %v", err)
	}

	for range b.N {
		runMillionDistinct(b)
	}
}

func runMillionDistinct(b *testing.B) {
	b.StopTimer()
	fake := startFakeProcess(b)

	env := map[string]string{"IPQS_API_KEY": fakeKey, "IPQS_BASE_URL": fake.url}
	cfg, err := config.Load(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}, config.NeedIPQS)
	if err != nil {
		b.Fatalf("load config: %v", err)
	}
	if cfg.CacheMaxEntries != cache.DefaultMaxEntries {
		b.Fatalf("CacheMaxEntries = %d, want the default %d", cfg.CacheMaxEntries, cache.DefaultMaxEntries)
	}
	// The bot gives the runtime this soft memory limit unless GOMEMLIMIT
	// sets one.
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		limit = cfg.MemoryLimit()
		debug.SetMemoryLimit(limit)
		defer debug.SetMemoryLimit(math.MaxInt64)
	}
	client := ipqs.New(ipqs.Config{BaseURL: cfg.IPQSBaseURL, Key: cfg.IPQSKey})
	c := cache.New(client, cache.Config{TTL: cfg.CacheTTL, MaxEntries: cfg.CacheMaxEntries})

	// Writing 5 to clear_refs resets VmHWM to the current RSS, so the peak
	// starts from this process as it is now, not from an earlier run. The
	// heap that an earlier run freed goes back to the OS first.
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatalf("reset peak RSS: %v", err)
	}
	startRSS := readStatusKiB(b, "/proc/self/status", "VmRSS")

	b.StartTimer()
	start := time.Now()
	maxLen, err := lookupDistinct(b.Context(), c, millionLookups, millionWorkers)
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}

	peakRSS := readStatusKiB(b, "/proc/self/status", "VmHWM")
	runtime.GC()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	calls, fakePeakRSS := fake.stop(b)

	if maxLen > cfg.CacheMaxEntries {
		b.Fatalf("cache held %d entries, more than the bound of %d", maxLen, cfg.CacheMaxEntries)
	}
	if n := c.Len(); n != cfg.CacheMaxEntries {
		b.Fatalf("Len = %d at the end, want the bound %d", n, cfg.CacheMaxEntries)
	}
	if calls != millionLookups {
		b.Fatalf("fake IPQS received %d calls, want %d, one per address", calls, millionLookups)
	}

	b.ReportMetric(float64(peakRSS)*1024/1e6, "peak_RSS_MB")
	b.ReportMetric(float64(limit)/(1<<20), "memory_limit_MiB")
	b.ReportMetric(float64(startRSS)*1024/1e6, "start_RSS_MB")
	b.ReportMetric(float64(mem.HeapInuse)/1e6, "heap_inuse_after_GC_MB")
	b.ReportMetric(float64(c.Len()), "cache_len")
	b.ReportMetric(float64(maxLen), "max_cache_len")
	b.ReportMetric(millionLookups/elapsed.Seconds(), "lookups/s")
	b.ReportMetric(float64(fakePeakRSS)*1024/1e6, "fake_peak_RSS_MB")
	runtime.KeepAlive(c)
}

// lookupDistinct looks up n distinct IPv4 addresses through c from workers
// goroutines and returns the largest Len seen after any lookup.
func lookupDistinct(ctx context.Context, c *cache.Cache, n, workers int) (int, error) {
	var (
		next     atomic.Int64
		maxLen   atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The addresses count up from 11.0.0.0, a public block with room for
	// 2^24 of them.
	const first = uint32(11) << 24

	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil {
					return
				}
				v := first + uint32(i)
				addr := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
				req := ipqs.Request{Kind: ipqs.KindIP, Value: addr.String()}
				if _, err := c.Lookup(ctx, req); err != nil {
					errOnce.Do(func() {
						firstErr = fmt.Errorf("lookup %d of %d: %w", i+1, n, err)
						cancel()
					})
					return
				}

				size := int64(c.Len())
				for {
					seen := maxLen.Load()
					if size <= seen || maxLen.CompareAndSwap(seen, size) {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	return int(maxLen.Load()), firstErr
}

// fakeProcess is the child process that serves the fake IPQS API.
type fakeProcess struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	url    string
}

// startFakeProcess runs this test binary again as TestIPQSFakeProcess and
// reads the fake's URL from its first line of output.
func startFakeProcess(b *testing.B) *fakeProcess {
	b.Helper()

	cmd := exec.Command(os.Args[0], "-test.run=^TestIPQSFakeProcess$", "-test.count=1")
	// GOGC and GOMEMLIMIT tune the measured process only, because the fake
	// keeps every request and would collect garbage all the time under a
	// limit meant for the cache.
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOGC=") || strings.HasPrefix(kv, "GOMEMLIMIT=")
	})
	cmd.Env = append(env, fakeProcessEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start fake IPQS process: %v", err)
	}
	f := &fakeProcess{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}
	b.Cleanup(func() {
		_ = f.stdin.Close()
		_ = f.cmd.Wait()
	})

	line, err := f.stdout.ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "url ")
	if err != nil || !ok {
		b.Fatalf("fake IPQS process: read its URL: got %q, err %v", line, err)
	}
	f.url = url
	return f
}

// stop closes the child's stdin, which makes it shut the fake down, and
// returns the calls the fake received and the child's peak RSS in KiB.
func (f *fakeProcess) stop(b *testing.B) (calls, peakKiB int) {
	b.Helper()

	if err := f.stdin.Close(); err != nil {
		b.Fatalf("fake IPQS process: close stdin: %v", err)
	}
	line, err := f.stdout.ReadString('\n')
	if err != nil {
		b.Fatalf("fake IPQS process: read its totals: got %q, err %v", line, err)
	}
	if _, err := fmt.Sscanf(line, "calls %d peak_kib %d", &calls, &peakKiB); err != nil {
		b.Fatalf("fake IPQS process: parse totals %q: %v", line, err)
	}
	return calls, peakKiB
}

// TestIPQSFakeProcess is the child process of BenchmarkMillionDistinct, not
// a test. It serves ipqsfake on 127.0.0.1, prints "url URL", waits until its
// stdin closes, then prints "calls N peak_kib K" and exits.
func TestIPQSFakeProcess(t *testing.T) {
	if os.Getenv(fakeProcessEnv) != "1" {
		t.Skip("runs only as the fake IPQS process of BenchmarkMillionDistinct")
	}

	fake := ipqsfake.New(fakeKey)
	fmt.Printf("url %s\n", fake.URL())
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		t.Fatalf("read stdin: %v", err)
	}
	fake.Close()

	peak := readStatusKiB(t, "/proc/self/status", "VmHWM")
	fmt.Printf("calls %d peak_kib %d\n", fake.TotalCalls(), peak)
}

// readStatusKiB returns the field of a /proc status file, such as VmHWM,
// in KiB.
func readStatusKiB(tb testing.TB, path, field string) int {
	tb.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	for line := range bytes.Lines(data) {
		rest, ok := strings.CutPrefix(string(line), field+":")
		if !ok {
			continue
		}
		kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		if err != nil {
			tb.Fatalf("parse %s in %s: %v", field, path, err)
		}
		return kib
	}
	tb.Fatalf("no %s line in %s", field, path)
	return 0
}
