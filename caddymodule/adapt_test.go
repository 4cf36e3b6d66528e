package caddymodule

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile" // the caddyfile adapter
	_ "github.com/caddyserver/caddy/v2/modules/standard"      // header, reverse_proxy and the rest
)

var update = flag.Bool("update", false, "rewrite the golden JSON files of the adapt tests")

// adaptCaddyfile adapts a Caddyfile to JSON as `caddy adapt` does. Its
// warnings fail the test: the test Caddyfiles are written as `caddy fmt`
// lays them out.
func adaptCaddyfile(t *testing.T, filename string, body []byte) ([]byte, error) {
	t.Helper()
	out, warnings, err := adaptWithWarnings(t, filename, body)
	for _, w := range warnings {
		t.Errorf("adapt warning: %s", w)
	}
	return out, err
}

// adaptWithWarnings adapts a Caddyfile and returns its warnings.
func adaptWithWarnings(t *testing.T, filename string, body []byte) ([]byte, []string, error) {
	t.Helper()
	adapter := caddyconfig.GetAdapter("caddyfile")
	if adapter == nil {
		t.Fatal("no caddyfile adapter registered")
	}
	out, warnings, err := adapter.Adapt(body, map[string]any{"filename": filename})
	var texts []string
	for _, w := range warnings {
		texts = append(texts, w.String())
	}
	return out, texts, err
}

// indentJSON lays JSON out one way, so that files compare by content.
func indentJSON(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, bytes.TrimSpace(data), "", "\t"); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// TestCaddyAdaptGolden adapts each testdata/adapt/*.caddyfile and compares
// the JSON with the .json file next to it. Run with -update to rewrite
// the .json files after a deliberate change, and read their diff.
func TestCaddyAdaptGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "adapt", "*.caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/adapt/*.caddyfile")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".caddyfile")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, err := adaptCaddyfile(t, file, body)
			if err != nil {
				t.Fatalf("adapt: %v", err)
			}
			got := indentJSON(t, out)
			golden := strings.TrimSuffix(file, ".caddyfile") + ".json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantRaw, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run the test with -update to write it)", err)
			}
			if want := indentJSON(t, wantRaw); !bytes.Equal(got, want) {
				t.Errorf("adapting %s gives:\n%s\nwant (%s):\n%s\nRun with -update if the change is deliberate.", file, got, golden, want)
			}
		})
	}
}

// TestBucketCORSOrdersItselfAfterHeader reads the order of the handlers
// straight from the adapted route: header, then bucket_cors, then
// reverse_proxy, with no `order` option in the Caddyfile.
func TestBucketCORSOrdersItselfAfterHeader(t *testing.T) {
	for _, input := range []string{
		"http://s3.example.com {\n\treverse_proxy 127.0.0.1:9000\n\tbucket_cors\n\theader X-A b\n}\n",
		"http://s3.example.com {\n\tbucket_cors\n\theader X-A b\n\treverse_proxy 127.0.0.1:9000\n}\n",
		"http://s3.example.com {\n\theader X-A b\n\treverse_proxy 127.0.0.1:9000\n\tbucket_cors\n}\n",
	} {
		out, err := adaptCaddyfile(t, "Caddyfile", []byte(input))
		if err != nil {
			t.Fatalf("adapt: %v", err)
		}
		var cfg struct {
			Apps struct {
				HTTP struct {
					Servers map[string]struct {
						Routes []struct {
							Handle []struct {
								Handler string `json:"handler"`
								Routes  []struct {
									Handle []struct {
										Handler string `json:"handler"`
									} `json:"handle"`
								} `json:"routes"`
							} `json:"handle"`
						} `json:"routes"`
					} `json:"servers"`
				} `json:"http"`
			} `json:"apps"`
		}
		if err := json.Unmarshal(out, &cfg); err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, srv := range cfg.Apps.HTTP.Servers {
			for _, route := range srv.Routes {
				for _, h := range route.Handle {
					// A site with a host matcher wraps its handlers in a
					// subroute.
					for _, sub := range h.Routes {
						for _, hh := range sub.Handle {
							order = append(order, hh.Handler)
						}
					}
				}
			}
		}
		if got, want := strings.Join(order, " "), "headers bucket_cors reverse_proxy"; got != want {
			t.Errorf("handlers in order %q, want %q, for:\n%s", got, want, input)
		}
	}
}

// TestCaddyAdaptReportsBadPolicies: `caddy adapt` (and so `caddy run` and
// `caddy validate`) fails on a bad policy with the policy package's own
// words and the line of the Caddyfile it is on.
func TestCaddyAdaptReportsBadPolicies(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{
			name: "origin with a trailing slash",
			input: `http://s3.example.com {
	bucket_cors {
		policy assets {
			rule {
				origins https://static.example.com/
				methods GET
			}
		}
	}
}
`,
			want: []string{`Caddyfile:3 (policy assets): rule 1: AllowedOrigins[1] "https://static.example.com/": an origin has no path; drop the trailing "/": use "https://static.example.com"`},
		},
		{
			name: "a policy file that does not validate",
			input: `http://s3.example.com {
	bucket_cors {
		policy_file static testdata/policies/slash-origin.json
	}
}
`,
			want: []string{`testdata/policies/slash-origin.json: rule 1 (ID "static"): AllowedOrigins[1]`, "Caddyfile:3"},
		},
		{
			name: "unknown subdirective",
			input: `http://s3.example.com {
	bucket_cors {
		origins https://app.example.com
	}
}
`,
			want: []string{`unknown subdirective "origins" of bucket_cors`, "Caddyfile:3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptCaddyfile(t, "Caddyfile", []byte(tc.input))
			if err == nil {
				t.Fatal("adapt succeeded")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q:\n%v", want, err)
				}
			}
		})
	}
}
