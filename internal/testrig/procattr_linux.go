package testrig

import (
	"os/exec"
	"syscall"
)

// setProcAttr makes the kernel kill the program when the test binary dies,
// so that no server outlives a test run that panicked or was killed.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
