package policy_test

import (
	"fmt"

	"github.com/bucketcors/bucketcors/policy"
)

// The example of Cloudflare's R2 CORS page, pasted exactly as printed there,
// trailing comma included, answers a preflight from the site it names.
func Example() {
	const r2Page = `[ 
  { 
    "AllowedOrigins": [ 
       "http://localhost:3000" 
    ],  
    "AllowedMethods": [
       "GET",
    ]
  }
]`
	p, err := policy.Parse("r2-example.json", []byte(r2Page))
	if err != nil {
		fmt.Println(err)
		return
	}

	ok := p.Preflight("http://localhost:3000", "GET", nil)
	fmt.Println(ok.Allowed, ok.AllowOrigin, ok.AllowCredentials, ok.AllowMethods)

	refused := p.Preflight("http://localhost:3000", "PUT", nil)
	fmt.Println(refused.Allowed, refused.Denied)
	// Output:
	// true http://localhost:3000 true GET
	// false method not allowed
}
