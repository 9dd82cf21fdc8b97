package generator_test

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/generator"
)

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want generator.Shard
		bad  bool
	}{
		{in: "0/4", want: generator.Shard{Index: 0, Count: 4}},
		{in: "3/4", want: generator.Shard{Index: 3, Count: 4}},
		{in: "0/1", want: generator.Shard{Index: 0, Count: 1}},
		{in: "4/4", bad: true},
		{in: "-1/4", bad: true},
		{in: "1/0", bad: true},
		{in: "1", bad: true},
		{in: "a/b", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := generator.ParseShard(tt.in)
			if tt.bad {
				if !errors.Is(err, generator.ErrShard) {
					t.Fatalf("ParseShard(%q) = %v, %v; want an ErrShard", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseShard(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

// TestShardOfIsRendezvousFNV pins the hash to its definition, written with
// hash/fnv: FNV-1a of name + NUL + shard index, then fmix64, highest wins.
func TestShardOfIsRendezvousFNV(t *testing.T) {
	ref := func(name string, n int) int {
		best, bestH := 0, uint64(0)
		for j := 0; j < n; j++ {
			h := fnv.New64a()
			h.Write([]byte(name + "\x00" + strconv.Itoa(j)))
			if v := fmix64(h.Sum64()); j == 0 || v > bestH {
				best, bestH = j, v
			}
		}
		return best
	}
	for _, n := range []int{1, 2, 3, 4, 5, 12} {
		for i := range 2000 {
			name := fmt.Sprintf("app-%d", i)
			if got, want := generator.ShardOf(name, n), ref(name, n); got != want {
				t.Fatalf("ShardOf(%q, %d) = %d, want %d", name, n, got, want)
			}
		}
	}
}

func TestShardsPartitionAndRebalance(t *testing.T) {
	const apps = 20000
	names := make([]string, apps)
	for i := range names {
		names[i] = fmt.Sprintf("web-%d", i)
	}
	for _, n := range []int{2, 4, 5} {
		t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			counts := make([]int, n)
			for _, name := range names {
				owners := 0
				for i := range n {
					if (generator.Shard{Index: i, Count: n}).Owns(name) {
						owners++
						counts[i]++
					}
				}
				if owners != 1 {
					t.Fatalf("%s has %d owners among %d shards, want 1", name, owners, n)
				}
			}
			for i, c := range counts {
				if share := float64(c) / apps; share < 0.8/float64(n) || share > 1.2/float64(n) {
					t.Errorf("shard %d/%d owns %d of %d (%.3f), want about 1/%d", i, n, c, apps, share, n)
				}
			}
		})
	}
	t.Run("a 5th shard moves about 1/5, all to it", func(t *testing.T) {
		moved := 0
		for _, name := range names {
			before, after := generator.ShardOf(name, 4), generator.ShardOf(name, 5)
			if before != after {
				moved++
				if after != 4 {
					t.Fatalf("%s moved from shard %d to %d, not to the new shard 4", name, before, after)
				}
			}
		}
		if share := float64(moved) / apps; share < 0.17 || share > 0.23 {
			t.Errorf("moved %d of %d (%.3f), want about 1/5", moved, apps, share)
		}
	})
}

// scheduleRows runs a schedule on the virtual clock for d and returns one
// "at app seq metric=value" row per metric, sorted.
func scheduleRows(t *testing.T, cfg *generator.Config, shard generator.Shard, d time.Duration) []string {
	t.Helper()
	s := newSchedule(t, cfg, generator.ScheduleOptions{Seed: 7, Shard: shard})
	var rows []string
	for {
		b, ok := s.Next()
		if !ok || b.At >= d {
			break
		}
		for _, ev := range b.Events {
			for _, m := range ev.Metrics {
				rows = append(rows, fmt.Sprintf("%v %s %d %s=%s", b.At, ev.App, ev.Seq, m.Name, m.Value.Text))
			}
		}
	}
	slices.Sort(rows)
	return rows
}

func TestShardedSchedulesUnionIsTheWhole(t *testing.T) {
	for _, spread := range []bool{false, true} {
		t.Run(fmt.Sprintf("spread=%v", spread), func(t *testing.T) {
			cfg := &generator.Config{Interval: 10 * time.Second, Spread: spread}
			for i := range 60 {
				iv := time.Duration(0)
				if i%7 == 0 {
					iv = 15 * time.Second
				}
				cfg.Deployments = append(cfg.Deployments, dep(fmt.Sprintf("app%d", i), iv,
					"cpu", choice("0.1", "0.2", "0.3", "0.4"), "at", atModel{}))
			}
			whole := scheduleRows(t, cfg, generator.Shard{}, 2*time.Minute)
			var union []string
			for i := range 4 {
				part := scheduleRows(t, cfg, generator.Shard{Index: i, Count: 4}, 2*time.Minute)
				if len(part) == 0 {
					t.Errorf("shard %d/4 sent nothing", i)
				}
				union = append(union, part...)
			}
			slices.Sort(union)
			if !slices.Equal(union, whole) {
				t.Fatalf("the 4 shards' rows differ from the whole run's: %d rows vs %d\nfirst shard rows: %s",
					len(union), len(whole), strings.Join(union[:min(5, len(union))], "; "))
			}
		})
	}
}

func TestShardedScheduleKeepsItsShardOnApply(t *testing.T) {
	shard := generator.Shard{Index: 1, Count: 3}
	cfg := &generator.Config{Interval: time.Second}
	for i := range 30 {
		cfg.Deployments = append(cfg.Deployments, dep(fmt.Sprintf("a%d", i), 0, "cpu", constModel("1")))
	}
	s := newSchedule(t, cfg, generator.ScheduleOptions{Shard: shard})
	next := cfg.Clone()
	for i := 30; i < 60; i++ {
		next.Deployments = append(next.Deployments, dep(fmt.Sprintf("a%d", i), 0, "cpu", constModel("1")))
	}
	res, err := s.Apply(next)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range res.Added {
		if !shard.Owns(name) {
			t.Errorf("Apply added %s, which shard %v does not own", name, shard)
		}
	}
	if s.Shard() != shard {
		t.Errorf("Shard() = %v, want %v", s.Shard(), shard)
	}
	b, _ := s.Next()
	for _, ev := range b.Events {
		if !shard.Owns(ev.App) {
			t.Errorf("an event of %s, which shard %v does not own", ev.App, shard)
		}
	}
	if want := generator.ShardCounts(next, 3)[1]; len(b.Events) != want {
		t.Errorf("%d events in the first batch, want the shard's %d deployments", len(b.Events), want)
	}
}

func TestNewScheduleRefusesABadShard(t *testing.T) {
	cfg := &generator.Config{Interval: time.Second, Deployments: []generator.Deployment{dep("a", 0, "cpu", constModel("1"))}}
	_, err := generator.NewSchedule(cfg, generator.ScheduleOptions{Shard: generator.Shard{Index: 4, Count: 4}})
	if !errors.Is(err, generator.ErrShard) {
		t.Fatalf("NewSchedule with shard 4/4 = %v, want an ErrShard", err)
	}
}

func BenchmarkShardOf(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		generator.ShardOf("deployment-123456", 4)
	}
}

func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
