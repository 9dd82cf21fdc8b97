package generator

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// IntervalOf is d's tick interval in c: its own, else the config's.
func (c *Config) IntervalOf(d Deployment) time.Duration {
	if d.Interval > 0 {
		return d.Interval
	}
	return c.Interval
}

// PerMinute is the messages a minute the deployments send, without faults.
func PerMinute(c *Config, ds []Deployment) float64 {
	perMinute := 0.0
	for _, d := range ds {
		perMinute += float64(time.Minute) / float64(c.IntervalOf(d))
	}
	return perMinute
}

// ShardLoads returns, for each of n shards, how many of c's deployments it
// owns and the messages a minute they send.
func ShardLoads(c *Config, n int) (counts []int, perMinute []float64) {
	counts, perMinute = make([]int, n), make([]float64, n)
	for _, d := range c.Deployments {
		i := ShardOf(d.Name, n)
		counts[i]++
		perMinute[i] += float64(time.Minute) / float64(c.IntervalOf(d))
	}
	return counts, perMinute
}

// DescribeSpec is a model's spec in the config's JSON form (an
// expression's > and & as written, not escaped for HTML); "?" for none.
func DescribeSpec(spec any) string {
	if spec == nil {
		return "?"
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(spec); err != nil {
		return "?"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// RandomSeed is a non-negative seed from crypto/rand, for a run whose
// flags and file give none.
func RandomSeed() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// NewRunID is a fresh run id (ScheduleOptions.Run): 8 hex digits.
func NewRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
