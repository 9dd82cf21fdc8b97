// Command metricsender simulates the resource-allocation messages of many
// Kubernetes applications and publishes them in the is-wire format.
package main

import (
	"os"

	"github.com/labsea/metricsender/app"
)

func main() {
	os.Exit(app.Run(os.Args, os.Stdout, os.Stderr))
}
