package preview_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/policy"
	"github.com/labsea/metricsender/preview"
)

// A demand step under a follow operator: the rows gain the replicas each
// tick saw. The spike asks for 3 replicas at 0 s; the decision is due at
// 15 s and applied once the clock has passed it, after the tick at 20 s,
// so the tick at 30 s is the first to see it (and 50 s the first to see
// the return to 1, asked at 20 s).
func ExampleRun() {
	cfg, err := generator.Parse("loop.yaml", []byte(`interval: 10s
deployments:
  - name: web
    state: {replicas: 1}
    metrics:
      replicas: {spike: {base: 1, peak: 3, every: 1m, for: 20s}}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	spec, err := policy.ParseSpec("follow:delay=15s")
	if err != nil {
		fmt.Println(err)
		return
	}
	opts := preview.Options{Config: cfg, Duration: time.Minute, Seed: 1, Format: "csv", Operator: &spec}
	if err := preview.Run(context.Background(), opts, os.Stdout, os.Stderr); err != nil {
		fmt.Println(err)
	}
	// Output:
	// elapsed,app,metric,value,replicas
	// 0,web,replicas,3,1
	// 10,web,replicas,3,1
	// 20,web,replicas,1,1
	// 30,web,replicas,1,3
	// 40,web,replicas,1,3
	// 50,web,replicas,1,1
}
