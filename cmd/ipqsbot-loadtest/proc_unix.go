//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// detach puts the bot into its own process group, so a Ctrl-C in the
// terminal reaches only the load tool, which then stops the bot itself.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
