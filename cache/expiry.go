package cache

import "time"

// The backoff of an error entry: firstBackoff after the first failed load,
// doubled after each further one, up to the TTL.
const firstBackoff = time.Second

// jitteredTTL draws an entry's TTL uniformly from [0.9, 1.1) × TTL, so that
// entries loaded together (a burst of requests after a restart) are not all
// re-read together.
func (c *Cache[V]) jitteredTTL() time.Duration {
	ttl := c.opts.TTL
	return ttl - ttl/10 + time.Duration(c.opts.Random()*float64(ttl/5))
}

// backoff is how long an error entry after failures consecutive failed
// loads answers its error before the sources are asked again.
func (c *Cache[V]) backoff(failures int) time.Duration {
	d := firstBackoff
	for i := 1; i < failures && d < c.opts.TTL; i++ {
		d *= 2
	}
	return min(d, c.opts.TTL)
}
