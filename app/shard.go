package app

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

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
	if s := podEnv("JOB_COMPLETION_INDEX"); s != "" {
		i, err := strconv.Atoi(s)
		if err != nil || i < 0 || i >= n {
			return generator.Shard{}, usagef("--shards %d: JOB_COMPLETION_INDEX %q is not an index in [0, %d)", n, s, n)
		}
		return generator.Shard{Index: i, Count: n}, nil
	}
	host := podEnv("HOSTNAME")
	i, ok := ordinal(host)
	switch {
	case !ok:
		return generator.Shard{}, usagef("--shards %d: HOSTNAME %q has no ordinal suffix (like sender-2, as a StatefulSet names its pods) and JOB_COMPLETION_INDEX is not set; give --shard i/%d", n, host, n)
	case i >= n:
		return generator.Shard{}, usagef("--shards %d: the ordinal %d of HOSTNAME %q is not below %d (more replicas than shards?)", n, i, host, n)
	}
	return generator.Shard{Index: i, Count: n}, nil
}

// ordinal is the number after the last '-' of a StatefulSet pod's name.
func ordinal(host string) (int, bool) {
	k := strings.LastIndexByte(host, '-')
	if k < 0 || k == len(host)-1 {
		return 0, false
	}
	i, err := strconv.Atoi(host[k+1:])
	if err != nil || i < 0 || strings.HasPrefix(host[k+1:], "+") {
		return 0, false
	}
	return i, true
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

// shardDeployments counts cfg's deployments that shard owns.
func shardDeployments(cfg *generator.Config, shard generator.Shard) int {
	if !shard.Sharded() {
		return len(cfg.Deployments)
	}
	return generator.ShardCounts(cfg, shard.Count)[shard.Index]
}

// printShards writes, for each of n shards, how many of cfg's deployments
// it owns and the messages a minute they send.
func printShards(w *strings.Builder, cfg *generator.Config, n int) {
	counts := make([]int, n)
	perMinute := make([]float64, n)
	for _, d := range cfg.Deployments {
		i := generator.ShardOf(d.Name, n)
		counts[i]++
		perMinute[i] += float64(time.Minute) / float64(intervalOf(cfg, d))
	}
	for i := range n {
		fmt.Fprintf(w, "shard %d/%d: %d deployments, %.4g messages a minute\n", i, n, counts[i], perMinute[i])
	}
}
