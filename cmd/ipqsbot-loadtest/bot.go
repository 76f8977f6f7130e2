package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/botproc"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// Made-up credentials that only the fakes accept.
const (
	appToken = "xapp-1-A0LOAD-1-loadtest"
	botToken = "xoxb-0-0-loadtest"
	ipqsKey  = "loadtest-ipqs-key"
)

const (
	// connectTimeout bounds the bot's start, from exec to an open socket.
	connectTimeout = 20 * time.Second

	// stopTimeout exceeds the bot's own drain of 25 s after SIGTERM.
	stopTimeout = 30 * time.Second

	// logTailLines is how much of the bot's log an error shows.
	logTailLines = 15
)

// botProcess is the bot running as a child process.
type botProcess struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed when the process has ended
}

// startBot starts the bot at path with settings that point it at the fakes
// and lift every lookup limit, and with workers as WORKERS unless it is 0.
// Its stdout and stderr go to bot.log in workDir and its audit log to
// audit.log there.
func startBot(path, workDir, slackURL, ipqsURL string, workers int) (*botProcess, error) {
	logPath := filepath.Join(workDir, "bot.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create the bot's log file: %w", err)
	}
	defer logFile.Close() // the child keeps its own descriptor

	// The bot gets no variable of the tool's environment, so real
	// credentials in the shell never reach it.
	cmd := exec.Command(path)
	cmd.Env = []string{
		"SLACK_APP_TOKEN=" + appToken,
		"SLACK_BOT_TOKEN=" + botToken,
		"IPQS_API_KEY=" + ipqsKey,
		"SLACK_API_URL=" + slackURL,
		"IPQS_BASE_URL=" + ipqsURL,
		"METRICS_ADDR=none",
		"LOG_LEVEL=warn",
		"LOG_FORMAT=text",
		"AUDIT_LOG=" + filepath.Join(workDir, "audit.log"),
		"USER_LOOKUP_LIMIT=unlimited",
		"LOOKUP_LIMIT_PER_MINUTE=0",
		"AUTO_ENRICH_KINDS=url,domain,ip",
	}
	if workers > 0 {
		cmd.Env = append(cmd.Env, "WORKERS="+strconv.Itoa(workers))
	}
	cmd.Dir = workDir // contains no .env file that the bot would read
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	botproc.Detach(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bot %s: %w", path, err)
	}

	b := &botProcess{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the exit code is read from cmd.ProcessState
		close(b.exited)
	}()
	return b, nil
}

// waitConnected waits until the bot has a Socket Mode connection open, and
// fails early when the bot exits.
func (b *botProcess) waitConnected(ctx context.Context, sim *slacksim.Sim) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	go func() {
		select {
		case <-b.exited:
			cancel()
		case <-ctx.Done():
		}
	}()

	err := sim.WaitConnected(ctx)
	select {
	case <-b.exited:
		return fmt.Errorf("the bot exited with code %d before it connected. Last lines of its log:\n%s",
			b.cmd.ProcessState.ExitCode(), b.logTail())
	default:
	}
	if err != nil {
		return fmt.Errorf("the bot did not connect within %v: %w. Last lines of its log:\n%s", connectTimeout, err, b.logTail())
	}
	return nil
}

// running reports whether the process has not exited yet.
func (b *botProcess) running() bool {
	select {
	case <-b.exited:
		return false
	default:
		return true
	}
}

// peakRSS returns the process's peak resident set size in bytes, read from
// VmHWM in /proc/PID/status, which exists on Linux only.
func (b *botProcess) peakRSS() (int64, error) {
	path := fmt.Sprintf("/proc/%d/status", b.cmd.Process.Pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read peak RSS: %w", err)
	}

	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		rest, ok := strings.CutPrefix(scanner.Text(), "VmHWM:")
		if !ok {
			continue
		}
		value, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if !ok {
			return 0, fmt.Errorf("read peak RSS: unexpected VmHWM line %q in %s", scanner.Text(), path)
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read peak RSS: parse VmHWM in %s: %w", path, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("read peak RSS: no VmHWM line in %s", path)
}

// stop sends SIGTERM, waits up to stopTimeout for the exit and returns the
// exit code. A process that outlives the timeout is killed and reported
// with an error.
func (b *botProcess) stop() (int, error) {
	if !b.running() {
		return b.cmd.ProcessState.ExitCode(), errors.New("the bot exited before it was stopped")
	}

	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return -1, fmt.Errorf("send SIGTERM to the bot: %w", err)
	}
	select {
	case <-b.exited:
		return b.cmd.ProcessState.ExitCode(), nil
	case <-time.After(stopTimeout):
		b.kill()
		return -1, fmt.Errorf("the bot did not exit within %v of SIGTERM and was killed", stopTimeout)
	}
}

// kill ends a bot that is still running and waits for it.
func (b *botProcess) kill() {
	if b.running() {
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}

// logTail returns the last lines of the bot's log.
func (b *botProcess) logTail() string {
	data, err := os.ReadFile(b.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", b.logPath, err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return "  " + string(bytes.Join(lines, []byte("\n  ")))
}

// logErrors returns how many lines of the bot's log have level ERROR, the
// first of them, and their count by message. When the log cannot be read,
// it returns -1 and the error.
func (b *botProcess) logErrors() (int, string, map[string]int) {
	data, err := os.ReadFile(b.logPath)
	if err != nil {
		return -1, fmt.Sprintf("cannot read %s: %v", b.logPath, err), nil
	}
	count, first := 0, ""
	byMessage := make(map[string]int)
	for line := range strings.Lines(string(data)) {
		if !strings.Contains(line, "level=ERROR") {
			continue
		}
		if count == 0 {
			first = strings.TrimSpace(line)
		}
		count++
		byMessage[logMessage(line)]++
	}
	return count, first, byMessage
}

// logMessage returns the msg attribute of a log/slog text line, unquoted,
// or "" when the line has none.
func logMessage(line string) string {
	_, rest, ok := strings.Cut(line, " msg=")
	if !ok {
		return ""
	}
	if strings.HasPrefix(rest, `"`) {
		quoted, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return ""
		}
		msg, _ := strconv.Unquote(quoted)
		return msg
	}
	msg, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
	return msg
}
