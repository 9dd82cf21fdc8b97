package generator_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/labsea/metricsender/generator"
)

func ExampleParse() {
	_, err := generator.Parse("metricsender.yaml", []byte(`interval: 0s
deployments:
  - name: app.1
    metrics:
      cpu: []
`))
	fmt.Println(err)
	// Output:
	// metricsender.yaml:1:1: interval: must be > 0, got 0s
	// metricsender.yaml:3:5: deployments[0].name: "app.1" may not contain '.': a name is one routing-key word (no '.', '*', '#', '>' or whitespace)
	// metricsender.yaml:5:7: deployments[0].metrics.cpu: empty list
}

func ExampleParseModel() {
	m, spec, err := generator.ParseModel([]byte(`{"ramp": {"from": "100m", "to": "2", "over": "4m"}}`), "")
	if err != nil {
		panic(err)
	}
	fmt.Println(spec)
	r := rand.New(rand.NewPCG(1, 2))
	for at := time.Duration(0); at <= 5*time.Minute; at += time.Minute {
		v := m.Next(r, at)
		fmt.Println(at, v.Text, v.Num)
	}
	// Output:
	// map[ramp:map[from:100m over:4m to:2]]
	// 0s 100m 0.1
	// 1m0s 575m 0.575
	// 2m0s 1050m 1.05
	// 3m0s 1525m 1.525
	// 4m0s 2 2
	// 5m0s 2 2
}
