//go:build !unix

package botproc

import "os/exec"

// Detach does nothing where process groups are not available.
func Detach(*exec.Cmd) {}
