package live

import (
	"math"
	"time"

	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/judge"
)

// Version is the "v" of every document of the event stream
// (docs/events.md). A change that breaks a reader bumps it.
const Version = 1

// The event types of the stream, each its document's "type".
const (
	TypeHello      = "hello"
	TypeRun        = "run"
	TypeJudge      = "judge"
	TypeFaults     = "faults"
	TypeDeployment = "deployment"
	TypePoints     = "points"
	TypeEnd        = "end"
	TypeOperator   = "operator"
)

// header opens every document.
type header struct {
	V    int    `json:"v"`
	Type string `json:"type"`
}

func head(typ string) header { return header{V: Version, Type: typ} }

// refusal is a selected name the stream does not follow, and why.
type refusal struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

type helloDoc struct {
	header
	Run         string    `json:"run"`
	Seed        int64     `json:"seed,string"`
	Interval    float64   `json:"interval_seconds"`
	Shard       string    `json:"shard"`
	Deployments int       `json:"deployments"`
	Control     bool      `json:"control"`
	Judged      bool      `json:"judged"`
	Started     bool      `json:"started"`
	StartMS     int64     `json:"start_ms"`
	Points      int       `json:"points"`
	Selected    []string  `json:"selected"`
	Refused     []refusal `json:"refused"`
}

type runDoc struct {
	header
	NowMS      int64   `json:"now_ms"`
	Uptime     float64 `json:"uptime_seconds"`
	Connected  bool    `json:"broker_connected"`
	Published  int     `json:"published"`
	Dropped    int     `json:"dropped"`
	Unroutable int     `json:"unroutable"`
	TickLag    float64 `json:"tick_lag_seconds"`
	Ticks      int64   `json:"ticks"`
	Ended      bool    `json:"ended"`
}

type judgeDoc struct {
	header
	Judged       bool     `json:"judged"`
	Requests     *int     `json:"requests,omitempty"`
	Applied      *int     `json:"applied,omitempty"`
	Superseded   *int     `json:"superseded,omitempty"`
	Open         *int     `json:"open,omitempty"`
	Unsolicited  *int     `json:"unsolicited,omitempty"`
	Oscillations *int     `json:"oscillations,omitempty"`
	P50          *float64 `json:"reaction_p50_seconds,omitempty"`
	P99          *float64 `json:"reaction_p99_seconds,omitempty"`
	Max          *float64 `json:"reaction_max_seconds,omitempty"`
	Line         string   `json:"line,omitempty"`
	HPA          *hpaDoc  `json:"hpa,omitempty"`
}

// hpaDoc is the real HPA's part of the summary (--feedback kubernetes).
type hpaDoc struct {
	Requests   int      `json:"requests"`
	Applied    int      `json:"applied"`
	Superseded int      `json:"superseded"`
	Open       int      `json:"open"`
	P50        *float64 `json:"reaction_p50_seconds"`
	P99        *float64 `json:"reaction_p99_seconds"`
	Max        *float64 `json:"reaction_max_seconds"`
	Late       int      `json:"late"`
	Unjudged   int      `json:"unjudged"`
}

// judgeOf is the judge document of rep: the numbers of its summary line
// and the line itself.
func judgeOf(rep judge.Report) judgeDoc {
	return judgeDoc{header: head(TypeJudge), Judged: true,
		Requests: &rep.Requests, Applied: &rep.Applied, Superseded: &rep.Superseded, Open: &rep.Open,
		Unsolicited: &rep.Unsolicited, Oscillations: &rep.Oscillations,
		P50: rep.ReactionP50, P99: rep.ReactionP99, Max: rep.ReactionMax, Line: rep.Line(), HPA: hpaOf(rep.HPA)}
}

func hpaOf(h *judge.HPAReport) *hpaDoc {
	if h == nil {
		return nil
	}
	return &hpaDoc{Requests: h.Requests, Applied: h.Applied, Superseded: h.Superseded, Open: h.Open,
		P50: h.ReactionP50, P99: h.ReactionP99, Max: h.ReactionMax, Late: h.Late, Unjudged: len(h.Unjudged)}
}

// faultHit is one message a fault hit.
type faultHit struct {
	App   string `json:"app"`
	Seq   uint64 `json:"seq"`
	Kinds string `json:"kinds"`
	TMS   int64  `json:"t_ms"`
}

type faultsDoc struct {
	header
	Counts map[string]uint64 `json:"counts"`
	Recent []faultHit        `json:"recent"`
}

type metricDoc struct {
	Name     string  `json:"name"`
	Last     *string `json:"last"`
	Override any     `json:"override"`
}

type stateDoc struct {
	Replicas   float64            `json:"replicas"`
	Ready      float64            `json:"ready"`
	Allocation map[string]float64 `json:"allocation"`
}

func stateOf(st generator.State) stateDoc {
	alloc := st.Allocation
	if alloc == nil {
		alloc = map[string]float64{}
	}
	return stateDoc{Replicas: st.Replicas, Ready: st.Ready, Allocation: alloc}
}

type deploymentDoc struct {
	header
	Name       string      `json:"name"`
	Paused     bool        `json:"paused"`
	Interval   float64     `json:"interval_seconds"`
	Seq        uint64      `json:"seq"`
	Metrics    []metricDoc `json:"metrics"`
	Faults     any         `json:"faults"`
	FaultsFrom string      `json:"faults_from"`
	State      stateDoc    `json:"state"`
}

// point is one message of a followed deployment.
type point struct {
	Seq    uint64            `json:"seq"`
	TMS    int64             `json:"t_ms"`
	Values map[string]string `json:"values"` // nil: suppressed by a fault
	Fault  string            `json:"fault"`
}

// stateSample is the observed state at one time.
type stateSample struct {
	TMS int64 `json:"t_ms"`
	stateDoc
}

// fateDoc is one request's fate.
type fateDoc struct {
	Metric   string   `json:"metric"`
	Value    float64  `json:"value"`
	OpenedMS int64    `json:"opened_ms"`
	Fate     string   `json:"fate"`
	EndedMS  *int64   `json:"ended_ms"`
	Reaction *float64 `json:"reaction_seconds"`
}

func fateOf(f judge.Fate) fateDoc {
	d := fateDoc{Metric: f.Metric, Value: f.Value, OpenedMS: f.Opened.UnixMilli(), Fate: string(f.Kind)}
	if !f.Ended.IsZero() {
		ms := f.Ended.UnixMilli()
		d.EndedMS = &ms
	}
	if f.Kind == judge.FateApplied {
		r := secs(f.Reaction)
		d.Reaction = &r
	}
	return d
}

type pointsDoc struct {
	header
	Name   string        `json:"name"`
	Reset  bool          `json:"reset"`
	Points []point       `json:"points"`
	States []stateSample `json:"states"`
	Fates  []fateDoc     `json:"fates"`
}

type endDoc struct {
	header
	Reason string `json:"reason"`
}

// secs is d in seconds, rounded to 3 decimals as the judge's report is.
func secs(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }
