package tickets_test

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/sheet"
	"yanzhen/tickets"
)

// EnvBenchBig enables the benchmarks at full size (100,000-row imports).
const EnvBenchBig = "YANZHEN_BENCH_BIG"

var benchDepartments = func() []string {
	var names []string
	for i := range 50 {
		names = append(names, fmt.Sprintf("第%d承办单位", i+1))
	}
	return names
}()

var (
	exportsMu sync.Mutex
	exports   = map[int][]byte{}
)

// benchExport returns a generated Beijing-style xlsx of n rows, made once per run.
func benchExport(b *testing.B, n int) []byte {
	exportsMu.Lock()
	defer exportsMu.Unlock()
	if data, ok := exports[n]; ok {
		return data
	}
	var buf bytes.Buffer
	start := time.Now()
	err := tickets.Generate(&buf, tickets.GenOptions{N: n, Departments: benchDepartments, Grids: []string{"环海街道", "科技街道"},
		Now: now, Days: 90, Seed: 42, Format: sheet.XLSX})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d rows: %.1f MB of xlsx in %v", n, float64(buf.Len())/(1<<20), time.Since(start).Round(time.Millisecond))
	exports[n] = buf.Bytes()
	return exports[n]
}

// BenchmarkImportXLSX imports a generated export into an empty store and
// reports rows/s, the peak RSS of the process (VmHWM, reset before the
// import) and the peak Go heap. 5,000 rows always; 100,000 rows with
// YANZHEN_BENCH_BIG=1:
//
//	YANZHEN_BENCH_BIG=1 YANZHEN_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test' \
//	  go test ./tickets -run '^$' -bench ImportXLSX -benchtime 1x
func BenchmarkImportXLSX(b *testing.B) {
	for _, n := range []int{5000, 100000} {
		for _, driver := range []string{models.DriverSQLite, models.DriverMySQL} {
			b.Run(fmt.Sprintf("rows=%d/%s", n, driver), func(b *testing.B) {
				if n > 5000 && os.Getenv(EnvBenchBig) == "" {
					b.Skipf("set %s=1 to import %d rows (run: %s=1 go test ./tickets -run '^$' -bench ImportXLSX -benchtime 1x)", EnvBenchBig, n, EnvBenchBig)
				}
				data := benchExport(b, n)
				b.ResetTimer()
				var total, cpu time.Duration
				var peakRSS, peakHeap uint64
				for range b.N {
					b.StopTimer()
					s := storetest.Open(b, driver, storetest.Options{Now: func() time.Time { return now }})
					for i, name := range benchDepartments {
						d := models.Department{Code: "d" + strconv.Itoa(i), Name: name}
						if _, err := s.UpsertDepartment(ctx, &d); err != nil {
							b.Fatal(err)
						}
					}
					for i, name := range []string{"环海街道", "科技街道"} {
						d := models.Department{Code: "g" + strconv.Itoa(i), Name: name, Tier: models.TierStreet}
						if _, err := s.UpsertDepartment(ctx, &d); err != nil {
							b.Fatal(err)
						}
					}
					svc := &tickets.Service{Store: s, Calendar: calendar.New(storetest.Shanghai, nil), Rules: config.Default().Rules}
					runtime.GC()
					resetPeakRSS()
					stop := sampleHeap()
					cpu0 := cpuTime()
					b.StartTimer()

					start := time.Now()
					sum, err := svc.ImportFile(ctx, bytes.NewReader(data), fromCLI("bench.xlsx"))
					elapsed := time.Since(start)
					cpu += cpuTime() - cpu0

					b.StopTimer()
					heap := stop()
					if err != nil || sum.Created != n || sum.Failed != 0 {
						b.Fatalf("import: %v %v %q", sum, err, sum.Errors)
					}
					total += elapsed
					peakRSS, peakHeap = max(peakRSS, readPeakRSS()), max(peakHeap, heap)
				}
				rate := float64(n*b.N) / total.Seconds()
				b.ReportMetric(rate, "rows/s")
				b.ReportMetric(float64(peakRSS)/(1<<20), "peak-RSS-MB")
				b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
				b.ReportMetric((cpu / time.Duration(b.N)).Seconds(), "cpu-s/op")
				b.Logf("%s: %d rows in %v per import (%.0f rows/s; %.1f s of CPU in this process), peak RSS %.0f MB, peak heap %.0f MB",
					driver, n, (total / time.Duration(b.N)).Round(time.Millisecond), rate, (cpu / time.Duration(b.N)).Seconds(),
					float64(peakRSS)/(1<<20), float64(peakHeap)/(1<<20))
			})
		}
	}
}

// resetPeakRSS resets the kernel's peak resident set size of this process
// (VmHWM), so that readPeakRSS reports the peak since now. Linux only; a
// no-op elsewhere.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// readPeakRSS returns VmHWM in bytes, or 0 where /proc is missing.
func readPeakRSS() uint64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sampleHeap samples runtime.MemStats.HeapInuse every 20 ms until the
// returned stop is called, which returns the highest sample.
func sampleHeap() (stop func() uint64) {
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}
