package jobs

import "github.com/prometheus/client_golang/prometheus"

// Outcomes of an overdue digest, the label outcome of its metric.
const (
	digestPosted       = "posted"
	digestFolded       = "folded"        // the group's daily budget was spent
	digestBeforeRollup = "before_rollup" // the day's morning roll-up was still to come
)

// Metrics are the jobs' Prometheus metrics:
//
//	yanzhen_overdue_digests_total{group,outcome}   group digests of the overdue scan: posted, folded into the next morning roll-up because the group's daily budget was spent, or before_rollup (told by the day's roll-up, still to come)
//
// A nil *Metrics counts nothing.
type Metrics struct {
	digests *prometheus.CounterVec
}

// NewMetrics returns the jobs' metrics, registered with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		digests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_overdue_digests_total",
			Help: "Group digests of the overdue scan, by group and outcome: posted, folded into the next morning roll-up (the group's daily budget was spent), or before_rollup (the day's roll-up, still to come, tells them).",
		}, []string{"group", "outcome"}),
	}
	if err := reg.Register(m.digests); err != nil {
		return nil, err
	}
	return m, nil
}

// digest counts one digest of group ("" is the default group, labelled
// default) with its outcome.
func (m *Metrics) digest(group, outcome string) {
	if m == nil {
		return
	}
	if group == "" {
		group = "default"
	}
	m.digests.WithLabelValues(group, outcome).Inc()
}
