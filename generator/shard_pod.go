package generator

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNoOrdinal is returned (wrapped) by PodShard when neither the job
// index nor the host name tells the pod's index.
var ErrNoOrdinal = errors.New("no ordinal")

// PodShard is shard i of n for a pod that knows its place: jobIndex (an
// Indexed Job's JOB_COMPLETION_INDEX) when not "", else the ordinal at
// the end of hostname (a StatefulSet pod, web-2 -> 2). The caller reads
// the environment: generator reads none. An index outside [0, n) is an
// error; so is a host name without an ordinal (wrapping ErrNoOrdinal).
func PodShard(n int, jobIndex, hostname string) (Shard, error) {
	if jobIndex != "" {
		i, err := strconv.Atoi(jobIndex)
		if err != nil || i < 0 || i >= n {
			return Shard{}, fmt.Errorf("JOB_COMPLETION_INDEX %q is not an index in [0, %d)", jobIndex, n)
		}
		return Shard{Index: i, Count: n}, nil
	}
	i, ok := Ordinal(hostname)
	switch {
	case !ok:
		return Shard{}, fmt.Errorf("HOSTNAME %q has %w suffix (like sender-2, as a StatefulSet names its pods) and JOB_COMPLETION_INDEX is not set", hostname, ErrNoOrdinal)
	case i >= n:
		return Shard{}, fmt.Errorf("the ordinal %d of HOSTNAME %q is not below %d (more replicas than shards?)", i, hostname, n)
	}
	return Shard{Index: i, Count: n}, nil
}

// Ordinal is the number after the last '-' of a StatefulSet pod's name.
func Ordinal(host string) (int, bool) {
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

// Deployments are the deployments of cfg that s owns (all of them when s
// is not sharded): what a feedback source maps, so other shards'
// workloads are not even looked at.
func (s Shard) Deployments(cfg *Config) []Deployment {
	if !s.Sharded() {
		return cfg.Deployments
	}
	out := make([]Deployment, 0, len(cfg.Deployments)/s.Count+1)
	for _, d := range cfg.Deployments {
		if s.Owns(d.Name) {
			out = append(out, d)
		}
	}
	return out
}

// Owned counts cfg's deployments that s owns.
func (s Shard) Owned(cfg *Config) int {
	if !s.Sharded() {
		return len(cfg.Deployments)
	}
	return ShardCounts(cfg, s.Count)[s.Index]
}
