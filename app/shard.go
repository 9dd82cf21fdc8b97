package app

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/labsea/metricsender/generator"
)

// shardFlag is --shard i/N of send and preview.
func shardFlag() cli.Flag {
	return &cli.StringFlag{Name: "shard", EnvVars: env("shard"),
		Usage: "send only the deployments of shard i of N (0-based, e.g. 2/4): rendezvous hashing on the name, so the N shards together send exactly what one process sends"}
}

// shardsFlag is --shards N of send: the index comes from the pod.
func shardsFlag() cli.Flag {
	return &cli.IntFlag{Name: "shards", EnvVars: env("shards"), DefaultText: "none: not sharded",
		Usage: "split the deployments over N processes; this one's index is JOB_COMPLETION_INDEX (an Indexed Job), else the ordinal at the end of HOSTNAME (a StatefulSet pod, web-2 -> 2); --shard wins over both"}
}

// podEnv reads what the pod tells about its place: the environment, and
// the host name when HOSTNAME is not set. A variable so tests can set it.
var podEnv = func(name string) string {
	v := os.Getenv(name)
	if v == "" && name == "HOSTNAME" {
		v, _ = os.Hostname()
	}
	return v
}

// shardOf resolves send's shard: --shard i/N, else with --shards N the
// index from JOB_COMPLETION_INDEX, else from the HOSTNAME ordinal. No
// flag: the zero Shard (every deployment). Every problem is a usage error
// (exit 2) naming the flag.
func shardOf(c *cli.Context) (generator.Shard, error) {
	n := 0
	if c.IsSet("shards") {
		if n = c.Int("shards"); n < 1 {
			return generator.Shard{}, usagef("--shards %d: must be >= 1", n)
		}
	}
	if c.IsSet("shard") {
		sh, err := generator.ParseShard(c.String("shard"))
		if err != nil {
			return generator.Shard{}, usagef("--shard: %v", err)
		}
		if n != 0 && n != sh.Count {
			return generator.Shard{}, usagef("--shard %s and --shards %d disagree on the number of shards", sh, n)
		}
		return sh, nil
	}
	if n == 0 {
		return generator.Shard{}, nil
	}
	sh, err := generator.PodShard(n, podEnv("JOB_COMPLETION_INDEX"), podEnv("HOSTNAME"))
	switch {
	case errors.Is(err, generator.ErrNoOrdinal):
		return generator.Shard{}, usagef("--shards %d: %v; give --shard i/%d", n, err, n)
	case err != nil:
		return generator.Shard{}, usagef("--shards %d: %v", n, err)
	}
	return sh, nil
}

// previewShardOf reads preview's --shard (no pod to ask).
func previewShardOf(c *cli.Context) (generator.Shard, error) {
	if !c.IsSet("shard") {
		return generator.Shard{}, nil
	}
	sh, err := generator.ParseShard(c.String("shard"))
	if err != nil {
		return generator.Shard{}, usagef("--shard: %v", err)
	}
	return sh, nil
}

// printShards writes, for each of n shards, how many of cfg's deployments
// it owns and the messages a minute they send.
func printShards(w *strings.Builder, cfg *generator.Config, n int) {
	counts, perMinute := generator.ShardLoads(cfg, n)
	for i := range n {
		fmt.Fprintf(w, "shard %d/%d: %d deployments, %.4g messages a minute\n", i, n, counts[i], perMinute[i])
	}
}
