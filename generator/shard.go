package generator

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Shard is one of Count processes that split a config's deployments
// between them: a process sends only the deployments it owns. The zero
// value (Count 0) owns every deployment, as does 0/1.
//
// Ownership is rendezvous hashing on the deployment's name: shard j scores
// a name with FNV-1a (64 bit) of name + NUL + j in decimal, passed through
// MurmurHash3's 64-bit finalizer, and the highest score wins (the lower
// index on a tie). The finalizer is needed: FNV-1a's last step only
// multiplies, so names whose hashes differ in the last byte (the shard
// digit) score in a fixed order, and with raw FNV-1a shard 4 of 5 won half
// of all names. So an assignment depends only on
// the name and Count: it holds across config changes (adding or removing
// other deployments moves nothing), and going from N to N+1 shards moves
// only the deployments the new shard wins, about 1/(N+1) of them.
type Shard struct {
	Index int // 0-based, < Count
	Count int // 0: not sharded
}

// ErrShard is wrapped by ParseShard and Shard.Validate for a malformed or
// out-of-range shard.
var ErrShard = errors.New("invalid shard")

// ParseShard reads "i/N" (0 <= i < N).
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("%w: %q: want i/N, e.g. 0/4", ErrShard, s)
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("%w: %q: want i/N with integers, e.g. 0/4", ErrShard, s)
	}
	sh := Shard{Index: i, Count: n}
	return sh, sh.Validate()
}

// Validate reports a shard that cannot be: Count < 1, or Index outside
// [0, Count). The zero value is valid.
func (s Shard) Validate() error {
	switch {
	case s == Shard{}:
		return nil
	case s.Count < 1:
		return fmt.Errorf("%w: %d shards: must be >= 1", ErrShard, s.Count)
	case s.Index < 0 || s.Index >= s.Count:
		return fmt.Errorf("%w: shard %d of %d: want 0 <= i < %d (shards are 0-based)", ErrShard, s.Index, s.Count, s.Count)
	}
	return nil
}

// Sharded reports whether s selects fewer than all deployments (Count > 1).
func (s Shard) Sharded() bool { return s.Count > 1 }

// String is "i/N", or "0/1" for the zero value.
func (s Shard) String() string {
	if s.Count == 0 {
		return "0/1"
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// Owns reports whether the deployment named name belongs to s. Every name
// belongs to exactly one shard of a given Count. Safe for concurrent use.
func (s Shard) Owns(name string) bool {
	return !s.Sharded() || ShardOf(name, s.Count) == s.Index
}

// ShardOf returns the 0-based shard of n that owns name (0 when n <= 1).
func ShardOf(name string, n int) int {
	best, bestScore := 0, uint64(0)
	for j := 0; j < n; j++ {
		if h := shardScore(name, j); j == 0 || h > bestScore {
			best, bestScore = j, h
		}
	}
	return best
}

// FNV-1a, 64 bit (hash/fnv's constants), inlined so that scoring a name
// allocates nothing.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// shardScore is fmix64(FNV-1a(name + NUL + the decimal text of j)).
func shardScore(name string, j int) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= fnvPrime64
	}
	h *= fnvPrime64 // h ^= 0 (the NUL) is a no-op
	var buf [20]byte
	for _, c := range strconv.AppendInt(buf[:0], int64(j), 10) {
		h ^= uint64(c)
		h *= fnvPrime64
	}
	return fmix64(h)
}

// fmix64 is MurmurHash3's finalizer: every input bit flips each output bit
// with probability about 1/2.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// ShardCounts returns how many of cfg's deployments each of n shards owns.
func ShardCounts(cfg *Config, n int) []int {
	counts := make([]int, max(n, 1))
	for _, d := range cfg.Deployments {
		counts[ShardOf(d.Name, n)]++
	}
	return counts
}

// Shard is the schedule's ScheduleOptions.Shard: what a source of feedback
// checks to ignore (and count) observations of other shards' deployments,
// which the schedule does not hold. Safe for concurrent use.
func (s *Schedule) Shard() Shard { return s.shard }
