package bucketcors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/spf13/cobra"

	"github.com/bucketcors/bucketcors/caddymodule"
	"github.com/bucketcors/bucketcors/edge"
	"github.com/bucketcors/bucketcors/policy"
	"github.com/bucketcors/bucketcors/source"
)

// configHandler is one bucket_cors handler of a configuration.
type configHandler struct {
	// server is the name of the HTTP server it is in; hosts are the host
	// matchers of the routes around it.
	server  string
	hosts   []string
	handler caddymodule.Handler
}

// where names the handler for a person.
func (c *configHandler) where() string {
	s := "bucket_cors in server " + c.server
	if len(c.hosts) > 0 {
		s += " (host " + strings.Join(c.hosts, ", ") + ")"
	}
	return s
}

// configPolicy is the policy that a handler gives a bucket, as far as the
// command can tell without reaching the network.
type configPolicy struct {
	policy *policy.Policy // nil for none
	// source says where it came from, in the configuration's words.
	source string
	// notes name the sources that the command does not read and that the
	// proxy asks before this one.
	notes []string
}

// handlerExplanation is the explanation of one handler, as --json writes it.
type handlerExplanation struct {
	Server      string             `json:"server"`
	Hosts       []string           `json:"hosts,omitempty"`
	Source      string             `json:"source"`
	Notes       []string           `json:"notes,omitempty"`
	Explanation policy.Explanation `json:"explanation"`
}

// explainConfig explains by the policy that every bucket_cors handler of
// the configuration gives the bucket.
func explainConfig(cmd *cobra.Command, ef *explainFlags) (int, error) {
	if !edge.ValidBucketName(ef.bucket) {
		return usageError(cmd, "--bucket %q: not a bucket name; a bucket name has letters, digits, '.', '-' and '_'", ef.bucket)
	}
	config, err := loadConfig(cmd, ef.config, ef.adapter)
	if err != nil {
		return exitUsage, err
	}
	handlers, err := findHandlers(config)
	if err != nil {
		return exitUsage, fmt.Errorf("%s: %w", ef.config, err)
	}
	if len(handlers) == 0 {
		return exitUsage, fmt.Errorf("%s: no bucket_cors handler in the configuration", ef.config)
	}
	results := make([]handlerExplanation, 0, len(handlers))
	status := exitOK
	for i := range handlers {
		cp, err := policyOfConfig(&handlers[i].handler, ef.bucket)
		if err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s:\n%v\n", handlers[i].where(), err)
			return exitUsage, nil
		}
		e := policy.Explain(cp.policy, ef.request)
		results = append(results, handlerExplanation{Server: handlers[i].server, Hosts: handlers[i].hosts,
			Source: cp.source, Notes: cp.notes, Explanation: e})
		status = max(status, explainStatus(e))
	}
	out := cmd.OutOrStdout()
	if ef.json {
		return status, caddymodule.WriteJSON(out, struct {
			Bucket   string               `json:"bucket"`
			Handlers []handlerExplanation `json:"handlers"`
		}{ef.bucket, results})
	}
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "%s: bucket %q: %s\n", handlers[i].where(), ef.bucket, r.Source)
		for _, n := range r.Notes {
			fmt.Fprintf(out, "  note: %s\n", n)
		}
		fmt.Fprintf(out, "\n%s", r.Explanation)
	}
	return status, nil
}

// loadConfig reads a Caddy configuration and adapts it to JSON: with the
// adapter named, else as JSON for a .json file, else as a Caddyfile. The
// adapter's warnings go to stderr.
func loadConfig(cmd *cobra.Command, path, adapterName string) ([]byte, error) {
	var (
		body []byte
		err  error
	)
	if path == "-" {
		body, err = io.ReadAll(cmd.InOrStdin())
	} else {
		body, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the configuration: %w", err)
	}
	if adapterName == "" {
		if strings.EqualFold(filepath.Ext(path), ".json") {
			return body, nil
		}
		adapterName = "caddyfile"
	}
	adapter := caddyconfig.GetAdapter(adapterName)
	if adapter == nil {
		return nil, fmt.Errorf("unknown config adapter %q", adapterName)
	}
	config, warnings, err := adapter.Adapt(body, map[string]any{"filename": path})
	for _, w := range warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
	}
	if err != nil {
		return nil, fmt.Errorf("adapting the configuration with %s: %w", adapterName, err)
	}
	return config, nil
}

// findHandlers returns every bucket_cors handler of a JSON configuration,
// server by server in name order, each in the order of its routes.
func findHandlers(config []byte) ([]configHandler, error) {
	var root struct {
		Apps struct {
			HTTP struct {
				Servers map[string]json.RawMessage `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(config, &root); err != nil {
		return nil, fmt.Errorf("reading the JSON configuration: %w", err)
	}
	var found []configHandler
	servers := root.Apps.HTTP.Servers
	for _, name := range slices.Sorted(maps.Keys(servers)) {
		err := walkConfig(servers[name], nil, func(raw json.RawMessage, hosts []string) error {
			c := configHandler{server: name, hosts: hosts}
			if err := json.Unmarshal(raw, &c.handler); err != nil {
				return fmt.Errorf("a bucket_cors handler of server %s: %w", name, err)
			}
			found = append(found, c)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

// walkConfig calls found for every bucket_cors handler within raw, with
// the host matchers of the routes around it. It looks through every value,
// so that handlers in subroutes and error routes are found too.
func walkConfig(raw json.RawMessage, hosts []string, found func(json.RawMessage, []string) error) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return err
		}
		for _, e := range elems {
			if err := walkConfig(e, hosts, found); err != nil {
				return err
			}
		}
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return err
		}
		var handler string
		if json.Unmarshal(obj["handler"], &handler) == nil && handler == "bucket_cors" {
			return found(raw, hosts)
		}
		if match, ok := obj["match"]; ok {
			hosts = slices.Concat(hosts, hostMatchers(match))
		}
		for _, key := range slices.Sorted(maps.Keys(obj)) {
			if err := walkConfig(obj[key], hosts, found); err != nil {
				return err
			}
		}
	}
	return nil
}

// hostMatchers returns the hosts of a route's matcher sets.
func hostMatchers(match json.RawMessage) []string {
	var sets []struct {
		Host []string `json:"host"`
	}
	if json.Unmarshal(match, &sets) != nil {
		return nil
	}
	var hosts []string
	for _, s := range sets {
		hosts = append(hosts, s.Host...)
	}
	return hosts
}

// policyOfConfig returns the policy that h gives bucket, taking the sources
// in the handler's order: the bucket's inline policy or policy_file, then
// its file in policy_dir, then the default policy ("*"). The policy_store
// and the policy_origin are not read: a note says where either comes
// before the policy found. Inline policies and policy files are compiled
// strictly, by the handler's own Handler.ConfiguredPolicy.
func policyOfConfig(h *caddymodule.Handler, bucket string) (configPolicy, error) {
	var cp configPolicy
	found, err := cp.configured(h, bucket)
	if found || err != nil {
		return cp, err
	}
	if h.PolicyStore != nil {
		cp.notes = append(cp.notes, fmt.Sprintf("policy_store is not read by this command; the proxy asks it "+
			"first, and a policy it holds for %q comes before the one below", bucket))
	}
	if found, err = cp.dir(h.PolicyDir, bucket); found || err != nil {
		return cp, err
	}
	if h.PolicyOrigin != nil {
		cp.notes = append(cp.notes, fmt.Sprintf("policy_origin is not read by this command; the proxy asks "+
			"the origin before the default policy, and its CORS configuration for %q, if it has one, "+
			"comes before the one below", bucket))
	}
	if found, err = cp.configured(h, caddymodule.DefaultPolicyKey); found || err != nil {
		cp.source += " (the default policy)"
		return cp, err
	}
	cp.source = `no policy: no source has one for the bucket, and there is no default policy ("*")`
	return cp, nil
}

// configured sets the policy that the handler's inline policies or policy
// files give key, and reports whether there is one.
func (cp *configPolicy) configured(h *caddymodule.Handler, key string) (bool, error) {
	pol, where, err := h.ConfiguredPolicy(key)
	switch {
	case err != nil:
		return false, err
	case pol == nil:
		return false, nil
	case where == "policies":
		cp.source = "policy " + key
	default:
		cp.source = "policy_file " + key + " " + where
	}
	cp.policy = pol
	return true, nil
}

// dir sets the policy of the bucket's file in the policy folder, and
// reports whether there is one.
func (cp *configPolicy) dir(path, bucket string) (bool, error) {
	if path == "" {
		return false, nil
	}
	res, err := (&source.Dir{Path: path}).Load(context.Background(), bucket)
	if err != nil || !res.Found {
		return false, err
	}
	cp.policy = res.Policy
	cp.source = "policy_dir " + path
	// Load has just read one of the two; name it.
	for _, ext := range []string{".json", ".xml"} {
		if file := filepath.Join(path, bucket+ext); fileExists(file) {
			cp.source += " (" + file + ")"
			break
		}
	}
	return true, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
