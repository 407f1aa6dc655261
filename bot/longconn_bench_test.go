package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"yanzhen/bot"
	"yanzhen/bot/wecomtest"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
)

// stamping is a handler that notes when each frame's row reached it: the
// dispatcher hands a row over once its insert has committed, so the time
// from the push to the handler bounds the time from frame to stored row.
type stamping struct {
	mu   sync.Mutex
	at   []time.Time
	done chan struct{}
	left int
}

func (s *stamping) Handle(_ context.Context, in *models.Inbound) error {
	i, err := strconv.Atoi(in.MsgID[1:])
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.at[i].IsZero() {
		s.at[i] = time.Now()
		if s.left--; s.left == 0 {
			close(s.done)
		}
	}
	return nil
}

// BenchmarkLongConnectionFrames pushes text frames on one long connection
// over loopback TCP to a bot on SQLite and on MariaDB (when
// YANZHEN_TEST_MYSQL_DSN is set): b.N back to back, reporting the frames
// stored per second, then b.N more at the target rate of 2,000 a second,
// reporting the p50 and p99 time from a frame's push to its committed row
// (to the handler, which the dispatcher calls after the commit). The floor,
// in the same run, is the database alone: as many rows written in batches
// of 256 straight through the store, the journal's group commit without the
// connection. Targets: 2,000 frames/s, p99 under 50 ms. Bound it with
// -benchtime, e.g.
//
//	go test ./bot -run XXX -bench LongConnectionFrames -benchtime 5000x
func BenchmarkLongConnectionFrames(b *testing.B) {
	for _, driver := range storetest.Drivers {
		b.Run(driver, func(b *testing.B) {
			s := storetest.Open(b, driver, storetest.Options{})
			fake := wsFake(b, nil)
			var c config.WeCom
			aibotAlone(fake, groupChat)(&c)
			c.APIBase = fake.URL()
			bt, err := bot.New(s, bot.Options{WeCom: c, Log: zap.NewNop(),
				Outbox: config.Outbox{RobotPerMinute: 20, UserPerMinute: 30, GiveUpAfter: config.Duration(time.Hour), PollEvery: config.Duration(time.Second)}})
			if err != nil {
				b.Fatal(err)
			}
			h := &stamping{at: make([]time.Time, 2*b.N), done: make(chan struct{}), left: b.N}
			bt.Start(h)
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = bt.Shutdown(ctx)
				_ = bt.Close()
			})
			eventually(b, "the bot subscribed", fake.AIBotConnected)
			push := func(i int) {
				if _, err := fake.PushText(wecomtest.AIBotMessage{MsgID: fmt.Sprintf("b%07d", i), ChatID: groupChat, UserID: "zhangsan",
					BotName: botName, Content: "日报 今日办结 12 件，在办 3 件"}); err != nil {
					b.Fatal(err)
				}
			}
			wait := func() {
				select {
				case <-h.done:
				case <-time.After(2 * time.Minute):
					b.Fatalf("%d frames not stored", h.left)
				}
			}
			// Throughput: b.N frames back to back.
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				push(i)
			}
			wait()
			elapsed := time.Since(start)
			b.StopTimer()
			rate := float64(b.N) / elapsed.Seconds()
			// Latency: b.N more at the target rate, 2,000 a second.
			h.mu.Lock()
			h.done, h.left = make(chan struct{}), b.N
			h.mu.Unlock()
			pushed := make([]time.Time, b.N)
			start = time.Now()
			for i := range b.N {
				if ahead := time.Until(start.Add(time.Duration(i) * time.Second / 2000)); ahead > 0 {
					time.Sleep(ahead)
				}
				pushed[i] = time.Now()
				push(b.N + i)
			}
			wait()
			lat := make([]time.Duration, b.N)
			for i := range lat {
				lat[i] = h.at[b.N+i].Sub(pushed[i])
			}
			slices.Sort(lat)
			p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
			floor := dbFloor(b, s, b.N)
			b.ReportMetric(rate, "frames/s")
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(floor, "floor-rows/s")
			if b.N >= 1000 {
				b.Logf("%s: %d frames back to back on one connection in %v: %.0f/s (%.0f%% of the database's %.0f rows/s); "+
					"%d more at 2000/s: frame to stored row p50 %v, p99 %v; targets 2000/s, p99 < 50ms",
					driver, b.N, elapsed.Round(time.Millisecond), rate, 100*rate/floor, floor, b.N, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond))
			}
		})
	}
}

// dbFloor writes n inbound rows straight through the store, in batches of
// 256 as the journal does, and returns the rows written per second.
func dbFloor(b *testing.B, s *models.Store, n int) float64 {
	b.Helper()
	start := time.Now()
	for i := 0; i < n; i += 256 {
		var rows []*models.Inbound
		for j := i; j < min(n, i+256); j++ {
			rows = append(rows, &models.Inbound{Route: "floor", MsgID: fmt.Sprintf("f%07d", j), ChatID: groupChat, ChatType: "group",
				FromUserID: "zhangsan", MsgType: "text", Text: "日报 今日办结 12 件，在办 3 件", ReceivedAt: time.Now()})
		}
		if _, err := s.StoreInbound(context.Background(), rows); err != nil {
			b.Fatal(err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}
