package testrig

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Ports are picked below the kernel's ephemeral range: the kernel hands
// ports in that range to outgoing connections (of which the tests make
// many) and to every listen on port 0, so a port from there can be taken
// between the check here and the server's own bind. Below it, only another
// FreePort can race, and this process never hands a port out twice.
const lowestPort = 15000

var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{}
)

// FreePort returns a loopback TCP port that nothing listens on now, for a
// server that the test starts: a site address in a Caddyfile, say. The port
// is free on 127.0.0.1 and, where the host has IPv6, on [::1].
func FreePort(t testing.TB) int {
	t.Helper()
	low, high := portRange()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		p := low + rand.IntN(high-low)
		if portsUsed[p] || !portFree(p) {
			continue
		}
		portsUsed[p] = true
		return p
	}
	t.Fatalf("testrig: no free loopback port in %d-%d", low, high-1)
	return 0
}

// FreeAddr returns "127.0.0.1:<port>" for a port from FreePort.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(FreePort(t))
}

// pickAddr is FreeAddr, for the servers the rig starts; tests of the rig
// replace it to hand out a taken address.
var pickAddr = FreeAddr

// portRange returns [low, high) below the ephemeral range of the kernel.
func portRange() (low, high int) {
	high = 32768 // Linux's default start of the ephemeral range
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				high = n
			}
		}
	}
	if high-lowestPort < 1000 {
		// An unusual ephemeral range: take ports between 2000 and 60000.
		return 2000, 60000
	}
	return lowestPort, high
}

// portFree reports whether port can be listened on, on 127.0.0.1 and [::1].
func portFree(port int) bool {
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	defer l.Close()
	// MinIO listens on every loopback address of its host name; a port
	// taken on [::1] makes it fail. No IPv6 at all is fine.
	l6, err := net.Listen("tcp6", fmt.Sprintf("[::1]:%d", port))
	if err != nil {
		return !strings.Contains(err.Error(), "address already in use")
	}
	l6.Close()
	return true
}
