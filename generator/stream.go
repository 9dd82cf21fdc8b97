package generator

import "math/rand/v2"

// Stream returns the random stream of one (deployment, metric) pair in the
// run seeded with seed: a PCG generator whose state is the seed and an
// FNV-1a 64 hash of the two names (separated by a NUL byte, so "ab"+"c" and
// "a"+"bc" differ). The Schedule draws each metric's values from exactly
// this stream.
//
// Each pair drawing from its own stream is what makes runs reproducible per
// metric: the same seed and names always give the same sequence, and adding
// or removing another deployment or metric changes nothing here. The
// returned *rand.Rand is not safe for concurrent use.
func Stream(seed int64, deployment, metric string) *rand.Rand {
	return rand.New(rand.NewPCG(streamSeeds(seed, deployment, metric)))
}

// streamSeeds returns the PCG seeds of Stream. FNV-1a is written out so
// building 100,000 deployments' streams allocates nothing for hashing.
func streamSeeds(seed int64, deployment, metric string) (uint64, uint64) {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := range len(deployment) {
		h = (h ^ uint64(deployment[i])) * prime
	}
	h *= prime // the NUL separator: h ^ 0 == h
	for i := range len(metric) {
		h = (h ^ uint64(metric[i])) * prime
	}
	return uint64(seed), h
}
