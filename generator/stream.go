package generator

import (
	"hash/fnv"
	"math/rand/v2"
)

// Stream returns the random stream of one (deployment, metric) pair in the
// run seeded with seed: a PCG generator whose state is the seed and an
// FNV-1a 64 hash of the two names (separated by a NUL byte, so "ab"+"c" and
// "a"+"bc" differ).
//
// Each pair drawing from its own stream is what makes runs reproducible per
// metric: the same seed and names always give the same sequence, and adding
// or removing another deployment or metric changes nothing here. The
// returned *rand.Rand is not safe for concurrent use.
func Stream(seed int64, deployment, metric string) *rand.Rand {
	h := fnv.New64a()
	// Writes to a hash.Hash never fail.
	_, _ = h.Write([]byte(deployment))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(metric))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}
