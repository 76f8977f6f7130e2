//go:build unix

package botproc

import (
	"os/exec"
	"syscall"
)

// Detach puts the child into its own process group, so a Ctrl-C in the
// terminal reaches only the tool, which then stops the bot itself.
func Detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
