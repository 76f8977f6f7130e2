// Package botproc builds the ipqsbot binary and prepares it to run as a
// child process, for the tools that drive the bot against the local fakes.
package botproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Build builds ./cmd/ipqsbot of the module that contains the working
// directory into dir, without the race detector, and returns the binary's
// path.
func Build(ctx context.Context, dir string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root with go env GOMOD: %w", err)
	}
	modFile := strings.TrimSpace(string(gomod))
	if modFile == "" || modFile == os.DevNull {
		return "", errors.New("not inside the ipqsbot module: run the tool from the repository, or pass -bot PATH")
	}

	path := filepath.Join(dir, "ipqsbot")
	build := exec.CommandContext(ctx, "go", "build", "-o", path, "./cmd/ipqsbot")
	build.Dir = filepath.Dir(modFile)
	if output, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/ipqsbot in %s: %w\n%s", build.Dir, err, output)
	}
	return path, nil
}
