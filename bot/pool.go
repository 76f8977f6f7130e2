package bot

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// pool runs jobs on a fixed number of goroutines from a bounded queue, so a
// burst of events cannot start unbounded work. A panicking job is logged and
// does not stop its worker.
type pool struct {
	jobs chan job
	wg   sync.WaitGroup
	log  *slog.Logger
}

// job is one unit of work, named in logs by its envelope ID.
type job struct {
	envelopeID string
	run        func(ctx context.Context)
}

// newPool starts workers goroutines that run jobs with ctx.
func newPool(ctx context.Context, workers, queue int, log *slog.Logger) *pool {
	p := &pool{jobs: make(chan job, queue), log: log}
	for range workers {
		p.wg.Go(func() {
			for j := range p.jobs {
				p.runJob(ctx, j)
			}
		})
	}
	return p
}

// submit queues j and reports whether there was room. It does not block:
// a full queue returns false at once.
func (p *pool) submit(j job) bool {
	select {
	case p.jobs <- j:
		return true
	default:
		return false
	}
}

// depth returns the number of queued jobs.
func (p *pool) depth() int { return len(p.jobs) }

// close stops intake and waits up to timeout for queued and running jobs. It
// reports whether they all finished. submit must not be called after close.
func (p *pool) close(timeout time.Duration) bool {
	close(p.jobs)
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()

	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

func (p *pool) runJob(ctx context.Context, j job) {
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("job panicked", "envelope_id", j.envelopeID, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	j.run(ctx)
}
