package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeCommand is one ops-skill command line of a README code block.
type readmeCommand struct {
	line int
	text string
}

// readmeCommands extracts, from every fenced block of the README, the lines
// that run ops-skill: "ops-skill …", "$ ops-skill …" in output examples, and
// pipelines into ops-skill. Trailing comments (two spaces, then #) are dropped.
// Lines of other tools (make, brew, kubectl, docker, go) are not taken: make
// test is what CI runs, and the install lines need a published release.
func readmeCommands(t *testing.T) []readmeCommand {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, block []readmeCommand
	prompted := false // a block with "$ " prompts: its other lines are output
	inBlock, n := false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			if inBlock {
				out = append(out, commandsOf(block, prompted)...)
			}
			inBlock, block, prompted = !inBlock, nil, false
			continue
		}
		if inBlock {
			prompted = prompted || strings.HasPrefix(line, "$ ")
			block = append(block, readmeCommand{line: n, text: line})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// commandsOf keeps the ops-skill command lines of one block.
func commandsOf(block []readmeCommand, prompted bool) []readmeCommand {
	var out []readmeCommand
	for _, l := range block {
		text := strings.TrimSpace(l.text)
		if prompted {
			var ok bool
			if text, ok = strings.CutPrefix(text, "$ "); !ok {
				continue
			}
		}
		if i := strings.Index(text, "  #"); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if strings.HasPrefix(text, "ops-skill ") || strings.Contains(text, "| ops-skill ") {
			out = append(out, readmeCommand{line: l.line, text: text})
		}
	}
	return out
}

// TestEveryReadmeCommandRuns runs each README command, in order, as written,
// in one user's sandbox without a cluster (the simulated platform), with the
// files the README names (am.json, token) in the working directory. A command
// must end with exit 0, or 3 where the run it shows ends unresolved or
// escalated (observe mode); a usage error or a failure fails the test.
// `serve` runs until it answers on its port, then gets SIGTERM.
func TestEveryReadmeCommandRuns(t *testing.T) {
	cmds := readmeCommands(t)
	if len(cmds) < 20 {
		t.Fatalf("found %d ops-skill commands in the README, want the whole usage block", len(cmds))
	}
	t.Logf("%d README command lines run", len(cmds))
	s := newSandbox(t)
	copyFile(t, freshAlertFile(t, "am-high-cpu.json"), filepath.Join(s.home, "am.json"))
	if err := os.WriteFile(filepath.Join(s.home, "token"), []byte("readme-test-token-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Dir(binary)
	for _, c := range cmds {
		t.Run(c.text, func(t *testing.T) {
			r := s.shell(t, bin, c.text)
			if r.code != 0 && r.code != 3 {
				t.Errorf("README.md:%d: %s\n%s", c.line, c.text, r)
			}
		})
	}
}

// shell runs one command line with bash, ops-skill first in PATH.
func (s *sandbox) shell(t *testing.T, binDir, line string) result {
	t.Helper()
	serve := strings.HasPrefix(line, "ops-skill serve")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Dir = s.home
	cmd.Env = []string{"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + s.home, "OPS_SKILL_STATE_DIR=" + s.state}
	cmd.Stdin = strings.NewReader("")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if serve {
		waitListening(t, "127.0.0.1:9095")
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	err := cmd.Wait()
	r := result{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitListening polls serve's health endpoint until it answers (bounded).
func waitListening(t *testing.T, addr string) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := client.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("serve did not answer on %s within 30s", addr)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
