package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/ipqsbot/ipqsbot/internal/botproc"
	"github.com/ipqsbot/ipqsbot/internal/ipqsfake"
	"github.com/ipqsbot/ipqsbot/internal/slacksim"
)

// Made-up credentials that only the fakes accept.
const (
	appToken = "xapp-1-A0PLAY-1-playground"
	botToken = "xoxb-0-0-playground"
	ipqsKey  = "playground-ipqs-key"
)

const (
	// connectTimeout bounds the bot's start, from exec to an open socket.
	connectTimeout = 20 * time.Second

	// stopTimeout exceeds the bot's own drain of 25 s after SIGTERM.
	stopTimeout = 30 * time.Second

	// logTailLines is how much of the bot's log is shown when it fails.
	logTailLines = 15
)

// session is a running playground: the two fakes and the bot process.
type session struct {
	sim  *slacksim.Sim
	ipqs *ipqsfake.Server
	out  io.Writer

	workDir string
	logFile *os.File
	bot     *exec.Cmd
	exited  chan struct{} // closed when the bot process has ended

	jsonBlocks bool
	printed    map[int]bool // indexes into sim.Posts() of the posts already shown
}

// start builds the bot unless opts.botPath names one, starts the fakes and
// the bot, and waits until the bot has opened its Socket Mode connection.
func start(ctx context.Context, opts options, out io.Writer) (*session, error) {
	workDir, err := os.MkdirTemp("", "ipqsbot-playground-")
	if err != nil {
		return nil, fmt.Errorf("create temporary directory: %w", err)
	}
	s := &session{out: out, workDir: workDir, jsonBlocks: opts.jsonBlocks, printed: map[int]bool{}}

	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()

	botPath := opts.botPath
	if botPath == "" {
		fmt.Fprintln(out, "building the bot (go build ./cmd/ipqsbot)…")
		if botPath, err = botproc.Build(ctx, workDir); err != nil {
			return nil, err
		}
	}

	if err := s.openLog(opts.logPath); err != nil {
		return nil, err
	}

	s.sim = slacksim.New(slacksim.Options{AppToken: appToken, BotToken: botToken})
	s.ipqs = ipqsfake.New(ipqsKey)
	fmt.Fprintf(out, "Slack simulator: %s\nIPQS fake:       %s\nbot logs:        %s\n", s.sim.URL(), s.ipqs.URL(), s.logFile.Name())

	if err := s.startBot(botPath, opts.env); err != nil {
		return nil, err
	}
	if err := s.waitConnected(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "bot connected (pid %d)\n", s.bot.Process.Pid)
	ok = true
	return s, nil
}

// openLog creates the file that receives the bot's stdout and stderr.
func (s *session) openLog(path string) error {
	var err error
	if path == "" {
		s.logFile, err = os.CreateTemp("", "ipqsbot-playground-*.log")
	} else {
		s.logFile, err = os.Create(path)
	}
	if err != nil {
		return fmt.Errorf("create the bot's log file: %w", err)
	}
	return nil
}

// startBot starts the bot process with the fakes' settings and extraEnv.
func (s *session) startBot(path string, extraEnv []string) error {
	// The bot gets no variable of the playground's environment, so real
	// credentials in the shell never reach it. LOG_FORMAT=text keeps the log
	// file readable unless extraEnv sets another format.
	env := []string{
		"SLACK_APP_TOKEN=" + appToken,
		"SLACK_BOT_TOKEN=" + botToken,
		"IPQS_API_KEY=" + ipqsKey,
		"SLACK_API_URL=" + s.sim.APIURL(),
		"IPQS_BASE_URL=" + s.ipqs.URL(),
		"LOG_FORMAT=text",
	}
	env = append(env, extraEnv...)

	cmd := exec.Command(path)
	cmd.Env = env
	cmd.Dir = s.workDir // contains no .env file that the bot would read
	cmd.Stdout = s.logFile
	cmd.Stderr = s.logFile
	botproc.Detach(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the bot %s: %w", path, err)
	}

	s.bot = cmd
	s.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait() // the exit code is read from cmd.ProcessState
		close(s.exited)
	}()
	return nil
}

// waitConnected waits until the bot has a Socket Mode connection open.
func (s *session) waitConnected(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	go func() {
		select {
		case <-s.exited:
			cancel()
		case <-ctx.Done():
		}
	}()

	err := s.sim.WaitConnected(ctx)
	select {
	case <-s.exited:
		return fmt.Errorf("the bot exited with code %d before it connected. Last lines of its log:\n%s",
			s.bot.ProcessState.ExitCode(), s.logTail())
	default:
	}
	if err != nil {
		return fmt.Errorf("the bot did not connect within %v: %w. Last lines of its log:\n%s", connectTimeout, err, s.logTail())
	}
	return nil
}

// stop sends SIGTERM to the bot, waits for it to exit and returns the
// playground's exit code.
func (s *session) stop() int {
	select {
	case <-s.exited:
		code := s.bot.ProcessState.ExitCode()
		fmt.Fprintf(s.out, "bot exited on its own with code %d; see %s\n", code, s.logFile.Name())
		return exitFailure
	default:
	}

	if err := s.bot.Process.Signal(syscall.SIGTERM); err != nil {
		fmt.Fprintf(s.out, "send SIGTERM to the bot: %v\n", err)
	}
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		fmt.Fprintf(s.out, "bot did not exit within %v of SIGTERM: killing it\n", stopTimeout)
		_ = s.bot.Process.Kill()
		<-s.exited
		return exitFailure
	}

	code := s.bot.ProcessState.ExitCode()
	fmt.Fprintf(s.out, "bot exited with code %d\n", code)
	if code != 0 {
		return exitFailure
	}
	return exitOK
}

// close stops the fakes, kills a bot that is still running and removes the
// temporary directory. The log file stays.
func (s *session) close() {
	if s.bot != nil && s.bot.Process != nil {
		select {
		case <-s.exited:
		default:
			_ = s.bot.Process.Kill()
			<-s.exited
		}
	}
	if s.sim != nil {
		s.sim.Close()
	}
	if s.ipqs != nil {
		s.ipqs.Close()
	}
	if s.logFile != nil {
		s.logFile.Close()
	}
	os.RemoveAll(s.workDir)
}

// logTail returns the last lines of the bot's log.
func (s *session) logTail() string {
	data, err := os.ReadFile(s.logFile.Name())
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", s.logFile.Name(), err)
	}
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return "  " + string(bytes.Join(lines, []byte("\n  ")))
}
