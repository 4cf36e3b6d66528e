//go:build !linux

package testrig

import "os/exec"

// setProcAttr does nothing where there is no Pdeathsig; clean-up stops the
// programs.
func setProcAttr(cmd *exec.Cmd) {}
