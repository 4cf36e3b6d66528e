package testrig

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// logBuffer collects the output of a program. It is safe for concurrent use,
// as exec copies stdout and stderr from two goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a running server program.
type process struct {
	name    string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the program has exited
	waitErr error         // valid after done
}

// startProcess starts bin with its output going to out.
func startProcess(name string, out *logBuffer, bin string, args, env []string, dir string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout = out
	cmd.Stderr = out
	// A child that keeps the output pipe open must not block Wait forever.
	cmd.WaitDelay = 2 * time.Second
	setProcAttr(cmd)
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the thread that forked exits, not the process:
		// keep this goroutine on its thread while the program runs, so the
		// program dies with the test binary (a -timeout panic runs no
		// clean-up) and not before.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	return p, nil
}

// exited reports whether the program has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace for the program to exit, then kills
// it. It returns once the program is gone.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// errExited is returned by waitFor when the program exits before it is ready.
var errExited = errors.New("exited before it was ready")

// waitFor calls ready every interval until it returns true, the program
// exits, or timeout passes.
func (p *process) waitFor(timeout time.Duration, ready func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if p.exited() {
			return fmt.Errorf("%s %w (%v)", p.name, errExited, p.waitErr)
		}
		if ready() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v", p.name, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
