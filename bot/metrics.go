package bot

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"yanzhen/models"
)

// metrics are the bot's Prometheus metrics. Names:
//
//	yanzhen_wecom_callbacks_total{route,result}         callbacks answered, by outcome
//	yanzhen_wecom_callback_duration_seconds{route}      time to answer a callback
//	yanzhen_inbound_handled_total{result}               handler outcomes: ok, error, abandoned, stored (no handler)
//	yanzhen_wecom_api_calls_total{api,errcode}          calls to WeCom by errcode, http_NNN or network
//	yanzhen_outbox_sent_total{channel}                  messages sent
//	yanzhen_outbox_retried_total{channel}               failed attempts that will be retried
//	yanzhen_outbox_failed_total{channel,reason}         messages given up: permanent or give_up
//	yanzhen_outbox_backlog{channel}                     pending messages (read at scrape)
//	yanzhen_outbox_oldest_pending_seconds               age of the oldest pending message (read at scrape)
//	yanzhen_inbound_unhandled{state}                    unhandled callbacks: pending or abandoned (read at scrape)
//	yanzhen_inbound_oldest_pending_seconds              age of the oldest callback still to be handled (read at scrape)
//	yanzhen_aibot_connected                             1 while this process holds the AI bot's long connection up, else 0
type metrics struct {
	callbacks       *prometheus.CounterVec
	callbackSeconds *prometheus.HistogramVec
	handled         *prometheus.CounterVec
	apiCalls        *prometheus.CounterVec
	sent            *prometheus.CounterVec
	retried         *prometheus.CounterVec
	failed          *prometheus.CounterVec
}

func newMetrics() *metrics {
	return &metrics{
		callbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_wecom_callbacks_total", Help: "WeCom callbacks answered, by route and result.",
		}, []string{"route", "result"}),
		callbackSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "yanzhen_wecom_callback_duration_seconds", Help: "Time to answer a WeCom callback, by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_inbound_handled_total", Help: "Attempts at handling stored callbacks, by result.",
		}, []string{"result"}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_wecom_api_calls_total", Help: "Calls to the WeCom API, by endpoint and errcode (http_NNN or network when there is none).",
		}, []string{"api", "errcode"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_outbox_sent_total", Help: "Outbox messages sent, by channel.",
		}, []string{"channel"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_outbox_retried_total", Help: "Failed outbox attempts that will be retried, by channel.",
		}, []string{"channel"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "yanzhen_outbox_failed_total", Help: "Outbox messages given up, by channel and reason (permanent or give_up).",
		}, []string{"channel", "reason"}),
	}
}

// register adds the metrics, and the backlog gauges read from store at each
// scrape, to reg.
func (m *metrics) register(reg prometheus.Registerer, c *backlogCollector) error {
	for _, col := range []prometheus.Collector{m.callbacks, m.callbackSeconds, m.handled, m.apiCalls, m.sent, m.retried, m.failed, c} {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}

// backlogCollector reads the outbox backlog and the unhandled callbacks from
// the store when scraped, so that every replica reports the shared truth.
type backlogCollector struct {
	store *models.Store
	now   func() time.Time
	log   *zap.Logger

	backlog, oldest, unhandled, unhandledAge *prometheus.Desc
}

func newBacklogCollector(store *models.Store, now func() time.Time, log *zap.Logger) *backlogCollector {
	return &backlogCollector{
		store: store, now: now, log: log,
		backlog:   prometheus.NewDesc("yanzhen_outbox_backlog", "Outbox messages pending, by channel.", []string{"channel"}, nil),
		oldest:    prometheus.NewDesc("yanzhen_outbox_oldest_pending_seconds", "Age of the oldest pending outbox message; 0 when none.", nil, nil),
		unhandled: prometheus.NewDesc("yanzhen_inbound_unhandled", "Stored callbacks not handled: pending (to be tried) or abandoned (attempts used up).", []string{"state"}, nil),
		unhandledAge: prometheus.NewDesc("yanzhen_inbound_oldest_pending_seconds",
			"Age of the oldest stored callback still to be handled (not abandoned); 0 when none.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.backlog
	ch <- c.oldest
	ch <- c.unhandled
	ch <- c.unhandledAge
}

// Collect implements prometheus.Collector. A database error leaves the
// gauges out of the scrape and is logged.
func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	byChannel, oldest, err := c.store.OutboxBacklog(ctx)
	if err != nil {
		c.log.Warn("metrics: outbox backlog", zap.Error(err))
	} else {
		for _, ch2 := range []string{channelRobot, channelReply, channelApp, channelAIBotReply, channelAIBotPush} {
			ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(byChannel[ch2]), ch2)
		}
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, ageAt(c.now(), oldest))
	}
	pending, abandoned, since, err := c.store.UnhandledInbound(ctx, maxAttempts)
	if err != nil {
		c.log.Warn("metrics: unhandled callbacks", zap.Error(err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.unhandled, prometheus.GaugeValue, float64(pending), "pending")
	ch <- prometheus.MustNewConstMetric(c.unhandled, prometheus.GaugeValue, float64(abandoned), "abandoned")
	ch <- prometheus.MustNewConstMetric(c.unhandledAge, prometheus.GaugeValue, ageAt(c.now(), since))
}

// ageAt is the seconds from since to now; 0 when since is zero.
func ageAt(now, since time.Time) float64 {
	if since.IsZero() {
		return 0
	}
	return now.Sub(since).Seconds()
}
