package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bucketcors/bucketcors/cache"
	"github.com/bucketcors/bucketcors/policy"
)

// A policySource reads the policies of buckets from one place.
type policySource interface {
	// name labels the source in logs, metrics and the admin API.
	name() string
	// load returns the bucket's policy, or found=false when this source has
	// none for it. A document that does not validate is an error marked
	// with cache.Rejected, so that the previous policy stays in use.
	load(ctx context.Context, bucket string) (pol *policy.Policy, found bool, err error)
}

// loadFromSources asks each source in order; the first that has a policy
// for the bucket wins. A source that fails ends the load: answering from a
// later source could grant what the failed one would have refused.
func loadFromSources(ctx context.Context, sources []policySource, bucket string) (*policy.Policy, string, bool, error) {
	for _, src := range sources {
		pol, found, err := src.load(ctx, bucket)
		if err != nil {
			return nil, src.name(), false, err
		}
		if found {
			return pol, src.name(), true, nil
		}
	}
	return nil, "none", false, nil
}

// readLimitedPolicy compiles the document r yields, reading at most one byte
// past the size limit. A document that does not validate is Rejected.
func readLimitedPolicy(name string, r io.Reader) (*policy.Policy, error) {
	pol, err := policy.Read(name, r)
	if err != nil {
		return nil, cache.Rejected(err)
	}
	return pol, nil
}

// dirSource reads <bucket>.json or <bucket>.xml from a folder, on every load,
// so that a changed, added or deleted file is seen within the cache's TTL.
type dirSource struct {
	dir string
}

func (s *dirSource) name() string { return "policy_dir" }

func (s *dirSource) load(_ context.Context, bucket string) (*policy.Policy, bool, error) {
	var found []string
	for _, ext := range []string{".json", ".xml"} {
		path := filepath.Join(s.dir, bucket+ext)
		if _, err := os.Stat(path); err == nil {
			found = append(found, path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, false, err
		}
	}
	switch len(found) {
	case 0:
		return nil, false, nil
	case 1:
	default:
		return nil, false, cache.Rejected(fmt.Errorf("policy_dir: both %s and %s exist; keep one policy file per bucket", found[0], found[1]))
	}
	f, err := os.Open(found[0])
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil // deleted since the Stat
		}
		return nil, false, err
	}
	defer f.Close()
	pol, err := readLimitedPolicy(found[0], f)
	return pol, err == nil, err
}
