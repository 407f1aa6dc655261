package bot_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yanzhen/bot/wecomtest"
	"yanzhen/bot/wxcrypt"
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
// and p99 latency of the answers. The floor, in the same run and on the same
// database, is the least a callback must cost: the same callbacks posted the
// same way to a bare handler that checks the signature, decrypts, reads the
// MsgId and answers once its row is in, written by one group-committed
// INSERT IGNORE (SQLite: INSERT OR IGNORE) per batch; the two take turns, a
// quarter of the calls at a time. Targets: at least
// 0.85× the floor's callbacks/s, p99 at most 1.3× the floor's. Bound it
// with -benchtime, e.g.
//
//	go test ./bot -run XXX -bench RobotCallbacks -benchtime 20000x
func BenchmarkRobotCallbacks(b *testing.B) {
	clients := 32
	if n, err := strconv.Atoi(os.Getenv("YANZHEN_BENCH_CLIENTS")); err == nil && n > 0 {
		clients = n
	}
	for _, driver := range storetest.Drivers {
		b.Run(driver, func(b *testing.B) {
			// The sweep and the outbox poll at the service's default, once a
			// second, not at the tests' brisk pace.
			k := newKit(b, driver, kitOptions{poll: time.Second})
			k.bot.Start(noop{})
			calls := make([]benchCall, b.N)
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
				calls[i] = benchCall{req.URL.RequestURI(), cb.Body}
			}
			floor := floorServer(b, k.store)
			// The floor and the bot take turns, a quarter of the calls at a
			// time, so that the load of a shared machine falls on both alike.
			var fl, got benchRun
			b.ResetTimer()
			for part := range slices.Chunk(calls, (len(calls)+3)/4) {
				b.StopTimer()
				fl.add(postAll(b, floor.URL, part, clients, "&pass=floor"))
				b.StartTimer()
				got.add(postAll(b, k.url, part, clients, ""))
			}
			b.StopTimer()
			fl.sum()
			got.sum()
			b.ReportMetric(got.rate, "callbacks/s")
			b.ReportMetric(ms(got.p50), "p50-ms")
			b.ReportMetric(ms(got.p99), "p99-ms")
			b.ReportMetric(fl.rate, "floor-callbacks/s")
			b.ReportMetric(ms(fl.p99), "floor-p99-ms")
			b.ReportMetric(got.rate/fl.rate, "rate-ratio")
			b.ReportMetric(float64(got.p99)/float64(fl.p99), "p99-ratio")
			if b.N >= 1000 {
				b.Logf("%s: %d callbacks from %d clients: %.0f/s, p50 %v, p99 %v; floor %.0f/s, p50 %v, p99 %v; "+
					"%.2f× the floor's rate (target ≥ 0.85), %.2f× its p99 (target ≤ 1.3)",
					driver, b.N, clients, got.rate, got.p50.Round(10*time.Microsecond), got.p99.Round(10*time.Microsecond),
					fl.rate, fl.p50.Round(10*time.Microsecond), fl.p99.Round(10*time.Microsecond), got.rate/fl.rate, float64(got.p99)/float64(fl.p99))
			}
			eventually(b, "every callback handled", func() bool {
				var n int64
				if err := k.store.DB(context.Background()).Model(&models.Inbound{}).Where("route = ? AND handled_at IS NULL", models.RouteRobot).Count(&n).Error; err != nil {
					b.Fatal(err)
				}
				return n == 0
			})
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchCall is one callback POST: the request URI with its signed query,
// and the body.
type benchCall struct {
	uri  string
	body []byte
}

// benchRun is what passes of postAll measured: their answers' latencies and
// time, and once summed the rate and percentiles.
type benchRun struct {
	latencies []time.Duration
	elapsed   time.Duration
	rate      float64 // callbacks/s
	p50, p99  time.Duration
}

// add takes in another pass.
func (r *benchRun) add(pass benchRun) {
	r.latencies = append(r.latencies, pass.latencies...)
	r.elapsed += pass.elapsed
}

// sum works out the rate and the percentiles of the passes taken in.
func (r *benchRun) sum() {
	slices.Sort(r.latencies)
	r.rate = float64(len(r.latencies)) / r.elapsed.Seconds()
	r.p50, r.p99 = r.latencies[len(r.latencies)/2], r.latencies[len(r.latencies)*99/100]
}

// postAll posts every call to base from clients concurrent clients and
// measures the pass; any answer but 200 fails b. A floor pass adds its
// name to the query (tag), which the floor puts before each MsgId so that
// its rows never meet the bot's.
func postAll(b *testing.B, base string, calls []benchCall, clients int, tag string) benchRun {
	b.Helper()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer hc.CloseIdleConnections()
	latencies := make([]time.Duration, len(calls))
	var next, failed atomic.Int64
	var wg sync.WaitGroup
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
				resp, err := hc.Post(base+calls[i].uri+tag, "text/xml", bytes.NewReader(calls[i].body))
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
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d callbacks to %s failed", n, len(calls), base)
	}
	return benchRun{latencies: latencies, elapsed: elapsed}
}

// floorServer serves the floor of BenchmarkRobotCallbacks on s's database:
// signature check, decryption, the MsgId read, and the row written by a
// group commit of one INSERT IGNORE per batch, with as many writers as the
// journal has. Its rows are on route "floor" and stored handled, so that the
// bot's sweep leaves them alone.
func floorServer(b *testing.B, s *models.Store) *httptest.Server {
	b.Helper()
	crypter, err := wxcrypt.New(robotToken, robotAESKey, "")
	if err != nil {
		b.Fatal(err)
	}
	db, err := s.DB(context.Background()).DB()
	if err != nil {
		b.Fatal(err)
	}
	type req struct {
		msgID, chat, user, text string
		done                    chan error
	}
	reqs := make(chan req, 256)
	insert := "INSERT IGNORE INTO"
	writers := 2
	if s.Driver() == models.DriverSQLite {
		insert, writers = "INSERT OR IGNORE INTO", 1
	}
	insert += " " + s.Table(&models.Inbound{}) + " (route, msg_id, chat_id, chat_type, from_userid, msg_type, text, received_at, handled_at, attempts) VALUES "
	write := func(batch []req) {
		var q strings.Builder
		q.WriteString(insert)
		args := make([]any, 0, 8*len(batch))
		now := time.Now()
		for i, r := range batch {
			if i > 0 {
				q.WriteString(",")
			}
			q.WriteString("('floor',?,?,'group',?,'text',?,?,?,1)")
			args = append(args, r.msgID, r.chat, r.user, r.text, now, now)
		}
		_, err := db.Exec(q.String(), args...)
		for _, r := range batch {
			r.done <- err
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]req, 0, 256)
			for {
				select {
				case <-stop:
					return
				case r := <-reqs:
					batch = append(batch[:0], r)
				}
			fill:
				for len(batch) < 256 {
					select {
					case r := <-reqs:
						batch = append(batch, r)
					default:
						break fill
					}
				}
				write(batch)
			}
		}()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		floorCallback(w, r, crypter, func(msgID, chat, user, text string) error {
			done := make(chan error, 1)
			reqs <- req{msgID, chat, user, text, done}
			return <-done
		})
	}))
	b.Cleanup(func() {
		srv.Close()
		close(stop)
		wg.Wait()
	})
	return srv
}

// floorCallback is the floor's handler: check, decrypt, read, store.
func floorCallback(w http.ResponseWriter, r *http.Request, c *wxcrypt.Crypter, store func(msgID, chat, user, text string) error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "body", http.StatusBadRequest)
		return
	}
	encrypt, err := wxcrypt.ParseXMLEnvelope(body)
	if err != nil {
		http.Error(w, "envelope", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	plain, err := c.Open(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), encrypt)
	if err != nil {
		http.Error(w, "signature", http.StatusUnauthorized)
		return
	}
	var m struct {
		MsgID  string `xml:"MsgId"`
		ChatID string `xml:"ChatId"`
		From   struct {
			UserID string `xml:"UserId"`
		} `xml:"From"`
		Text struct {
			Content string `xml:"Content"`
		} `xml:"Text"`
	}
	if err := xml.Unmarshal(plain, &m); err != nil || m.MsgID == "" {
		http.Error(w, "message", http.StatusBadRequest)
		return
	}
	if err := store(q.Get("pass")+m.MsgID, m.ChatID, m.From.UserID, m.Text.Content); err != nil {
		http.Error(w, "store", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}
