package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// noop is a handler that does nothing, so that the benchmark measures the
// route and the bookkeeping of handling (claim, mark) and nothing else.
type noop struct{}

func (noop) Handle(context.Context, *models.Inbound) error { return nil }

// BenchmarkRobotCallbacks posts b.N signed robot callbacks, all different,
// over loopback HTTP from YANZHEN_BENCH_CLIENTS concurrent clients (default
// 32) to a bot on SQLite and on MariaDB (when YANZHEN_TEST_MYSQL_DSN is
// set), with the handler pool running, and reports callbacks/s and the p50
// and p99 latency of the answers. Bound it with -benchtime, e.g.
//
//	go test ./bot -run XXX -bench RobotCallbacks -benchtime 5000x
func BenchmarkRobotCallbacks(b *testing.B) {
	clients := 32
	if n, err := strconv.Atoi(os.Getenv("YANZHEN_BENCH_CLIENTS")); err == nil && n > 0 {
		clients = n
	}
	for _, driver := range storetest.Drivers {
		b.Run(driver, func(b *testing.B) {
			k := newKit(b, driver, kitOptions{})
			k.bot.Start(noop{})
			type call struct {
				url  string
				body []byte
			}
			calls := make([]call, b.N)
			for i := range calls {
				cb, err := k.robot.RobotText(wecomtest.RobotMessage{
					WebhookURL: k.wecom.WebhookURL(robotKey), MsgID: fmt.Sprintf("bench-%d", i), ChatID: "wrkBench",
					UserID: "zhangsan", Name: "张三", BotName: botName, Content: "日报 今日办结 12 件，在办 3 件",
				})
				if err != nil {
					b.Fatal(err)
				}
				req, err := cb.Request(k.url + "/wecom/robot")
				if err != nil {
					b.Fatal(err)
				}
				calls[i] = call{req.URL.String(), cb.Body}
			}
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
			latencies := make([]time.Duration, b.N)
			var next atomic.Int64
			var failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1)) - 1
						if i >= len(calls) {
							return
						}
						t := time.Now()
						resp, err := hc.Post(calls[i].url, "text/xml", bytes.NewReader(calls[i].body))
						if err != nil {
							failed.Add(1)
							continue
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						latencies[i] = time.Since(t)
						if resp.StatusCode != http.StatusOK {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d callbacks failed", n, b.N)
			}
			slices.Sort(latencies)
			p50, p99 := latencies[len(latencies)/2], latencies[len(latencies)*99/100]
			rate := float64(b.N) / elapsed.Seconds()
			b.ReportMetric(rate, "callbacks/s")
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			if b.N >= 1000 {
				b.Logf("%s: %d callbacks from %d clients in %v: %.0f/s, p50 %v, p99 %v",
					driver, b.N, clients, elapsed.Round(time.Millisecond), rate, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
			}
			eventually(b, "every callback handled", func() bool {
				var n int64
				if err := k.store.DB(context.Background()).Model(&models.Inbound{}).Where("handled_at IS NULL").Count(&n).Error; err != nil {
					b.Fatal(err)
				}
				return n == 0
			})
		})
	}
}
