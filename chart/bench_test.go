package chart

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkRanking80 renders the ranking of 80 units (four images) and
// prints the time and the bytes allocated per chart, which bound its peak
// memory, beside a floor measured in the same run: four blank canvases of
// the same sizes laid on white and encoded as PNG. The budget is 300 ms and
// 50 MB.
func BenchmarkRanking80(b *testing.B) {
	chart := ranking(generatedUnits(b, 80, 3))
	images, err := chart.Render()
	if err != nil {
		b.Fatal(err)
	}
	floorNs, floorBytes := measure(b, func() {
		for _, img := range images {
			c, err := newCanvas(img.Width, img.Height)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.image(); err != nil {
				b.Fatal(err)
			}
		}
	})
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for b.Loop() {
		if _, err := chart.Render(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&ms1)
	perOp := float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(b.N)
	b.ReportMetric(perOp/(1<<20), "MB-alloc/op")
	b.ReportMetric(float64(floorNs)/1e6, "floor-ms")
	b.ReportMetric(float64(floorBytes)/(1<<20), "floor-MB")
	b.ReportMetric(float64(len(images)), "images")
}

// floorRuns is how many times the floor is measured, to average it.
const floorRuns = 5

// measure runs fn floorRuns times and returns its mean time and the bytes
// it allocated on average.
func measure(b *testing.B, fn func()) (int64, uint64) {
	b.Helper()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	for range floorRuns {
		fn()
	}
	ns := time.Since(start).Nanoseconds() / floorRuns
	runtime.ReadMemStats(&ms1)
	return ns, (ms1.TotalAlloc - ms0.TotalAlloc) / floorRuns
}
