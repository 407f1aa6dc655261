package chart

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/encoding/simplifiedchinese"
)

var update = flag.Bool("update", false, "rewrite the perceptual hashes in testdata")

// demoUnits returns the names of the demo district's units, from its org file.
func demoUnits(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile("../demo/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var org struct {
		Departments []struct{ Name string }
	}
	if err := yaml.Unmarshal(data, &org); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range org.Departments {
		names = append(names, d.Name)
	}
	if len(names) < 10 {
		t.Fatalf("the demo has %d units", len(names))
	}
	return names
}

// generatedUnits returns n unit names of a made-up district: two to four
// hanzi drawn from GB 2312's two levels, then what units are called
// (街道, 社区, 局, …), some with digits and brackets as real names have.
func generatedUnits(t testing.TB, n int, seed uint64) []string {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 17))
	dec := simplifiedchinese.GBK.NewDecoder()
	hanzi := func() string {
		for {
			// Rows 16–87 hold the hanzi; row 55 stops at cell 89.
			row, cell := 16+rnd.IntN(72), 1+rnd.IntN(94)
			if row == 55 && cell > 89 {
				continue
			}
			s, err := dec.String(string([]byte{byte(0xA0 + row), byte(0xA0 + cell)}))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	suffixes := []string{"街道", "社区", "镇", "局", "委", "办公室", "服务中心", "分局", "管理委员会", "社区居委会"}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range 2 + rnd.IntN(3) {
			b.WriteString(hanzi())
		}
		switch rnd.IntN(5) {
		case 0:
			fmt.Fprintf(&b, "第%d", 1+rnd.IntN(12))
		case 1:
			b.WriteString("（" + hanzi() + hanzi() + "）")
		}
		b.WriteString(suffixes[rnd.IntN(len(suffixes))])
		out[i] = b.String()
	}
	return out
}

// ranking returns a ranking chart of units, in three groups, the first three
// of each on the red list and the last two on the black list.
func ranking(units []string) Bars {
	b := Bars{
		Title: "高新区2026年10月综合评分排名", Subtitle: "三率综合评分（有效回访1234件）", Series: []string{"综合评分"},
		Decimals: 2, Reference: &Reference{Value: 90.12, Label: "全区"}, Tones: map[Tone]string{Good: "红榜", Bad: "黑榜"},
		Note: "未参与排名（样本不足）：" + units[0] + "、" + units[1],
	}
	kinds := []string{"区级部门", "镇街", "社区"}
	per := (len(units) + 2) / 3
	for k, name := range kinds {
		g := Group{Name: name}
		for i := k * per; i < min(len(units), (k+1)*per); i++ {
			j := i - k*per
			tone := Plain
			switch {
			case j < 3:
				tone = Good
			case j >= per-2:
				tone = Bad
			}
			g.Bars = append(g.Bars, Bar{Label: units[i], Values: []float64{99 - 0.3*float64(j)}, Tone: tone})
		}
		b.Groups = append(b.Groups, g)
	}
	return b
}

// TestEveryUnitNameHasItsGlyphs renders the ranking of the demo district
// and of a generated district of 500 units and fails on any character drawn
// without a glyph; a name with a character outside the font is caught.
func TestEveryUnitNameHasItsGlyphs(t *testing.T) {
	for _, c := range []struct {
		name  string
		units []string
	}{{"demo", demoUnits(t)}, {"500 units", generatedUnits(t, 500, 1)}} {
		t.Run(c.name, func(t *testing.T) {
			images, err := ranking(c.units).Render()
			if err != nil {
				t.Fatal(err)
			}
			if want := (len(c.units) + MaxBars - 1) / MaxBars; len(images) < want {
				t.Errorf("%d images for %d units, want at least %d", len(images), len(c.units), want)
			}
			for i, img := range images {
				if len(img.Missing) > 0 {
					t.Errorf("image %d draws %q without glyphs", i+1, string(img.Missing))
				}
			}
			f, err := loadFont()
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range c.units {
				if m := missingIn(f, u, nil); len(m) > 0 {
					t.Errorf("%s: no glyph for %q", u, string(m))
				}
			}
		})
	}
	// 堃 and 珺 are in names but not in GB 2312.
	images, err := ranking([]string{"堃珺社区", "住建局"}).Render()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(images[0].Missing); got != "堃珺" {
		t.Errorf("a name outside the font reports %q missing, want 堃珺", got)
	}
}

func TestBarsSplitIntoImagesOfAtMost25(t *testing.T) {
	units := generatedUnits(t, 80, 2)
	b := ranking(units)
	images, err := b.Render()
	if err != nil {
		t.Fatal(err)
	}
	pages := b.paginate()
	if len(images) != 4 || len(pages) != 4 {
		t.Fatalf("80 bars make %d images, want 4", len(images))
	}
	total := 0
	for i, pg := range pages {
		n := 0
		for _, g := range pg {
			n += len(g.Bars)
		}
		if n > MaxBars || (i < 3 && n != MaxBars) {
			t.Errorf("page %d has %d bars", i+1, n)
		}
		total += n
		w, h := decode(t, images[i].PNG)
		if w != Width || w != images[i].Width || h != images[i].Height || (i < 3 && h < 800) || h < 300 || h > 1800 {
			t.Errorf("image %d is %d×%d (says %d×%d)", i+1, w, h, images[i].Width, images[i].Height)
		}
	}
	if total != 80 {
		t.Errorf("%d bars drawn of 80", total)
	}
	if pages[1][0].Name != "区级部门（续）" {
		t.Errorf("the second page goes on with %q", pages[1][0].Name)
	}
	// The red list is red and the black list black, on the first page.
	img := decodeImage(t, images[0].PNG)
	for _, c := range []struct {
		what string
		col  color.RGBA
	}{{"red list", rgba(colorGood)}, {"black list", rgba(colorBad)}, {"plain", rgba(seriesColor(0))}, {"district line", rgba(colorReference)}} {
		if n := count(img, c.col); n < 200 {
			t.Errorf("the %s colour covers %d pixels", c.what, n)
		}
	}
}

// TestImagesLookAsBefore compares each chart with its perceptual hash in
// testdata (go test ./chart -update rewrites them): the decoded size must be
// the same and the hash may differ in a few bits (antialiasing, rounding on
// another machine), not in the layout.
func TestImagesLookAsBefore(t *testing.T) {
	rank, err := ranking(demoUnits(t)).Render()
	if err != nil {
		t.Fatal(err)
	}
	weekly, err := Bars{
		Title: "本周不满意及重办工单", Subtitle: "2026年第47周（11月16日至11月22日）", Series: []string{"不满意", "重办"}, FromZero: true,
		Groups: []Group{{Name: "区级部门", Bars: []Bar{{Label: "住建局", Values: []float64{5, 2}}, {Label: "城管局", Values: []float64{3, 0}}}}},
	}.Render()
	if err != nil {
		t.Fatal(err)
	}
	trend, err := Trend{
		Title: "住建局三率趋势", Subtitle: "2026年6月至11月", Labels: []string{"6月", "7月", "8月", "9月", "10月", "11月"},
		Decimals: 1, Ceiling: 100, Note: "8月无有效回访",
		Lines: []Line{
			{Name: "综合评分", Values: []float64{90, 91.5, math.NaN(), 93, 92.4, 94}, Numbers: true},
			{Name: "响应率", Values: []float64{99, 100, math.NaN(), 98, 99, 100}},
			{Name: "全区综合评分", Values: []float64{89, 90, 91, 90, 91, 92}, Dashed: true},
		},
	}.Render()
	if err != nil {
		t.Fatal(err)
	}
	for name, img := range map[string]Image{"ranking": rank[0], "weekly": weekly[0], "trend": trend} {
		w, h := decode(t, img.PNG)
		hash := perceptualHash(decodeImage(t, img.PNG))
		file := filepath.Join("testdata", name+".hash")
		want := fmt.Sprintf("%d×%d %s\n", w, h, hex.EncodeToString(hash))
		if *update {
			if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		golden, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("%v (run go test ./chart -update)", err)
		}
		var gw, gh int
		var ghex string
		if _, err := fmt.Sscanf(string(golden), "%d×%d %s", &gw, &gh, &ghex); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if gw != w || gh != h {
			t.Errorf("%s is %d×%d, was %d×%d", name, w, h, gw, gh)
		}
		gold, err := hex.DecodeString(ghex)
		if err != nil || len(gold) != len(hash) {
			t.Fatalf("%s: bad hash %q", file, ghex)
		}
		if d := hamming(gold, hash); d > len(hash)*8/50 {
			t.Errorf("%s looks different: %d of %d bits of its hash changed", name, d, len(hash)*8)
		}
		if os.Getenv("YANZHEN_CHART_OUT") != "" {
			_ = os.WriteFile(filepath.Join(os.Getenv("YANZHEN_CHART_OUT"), name+".png"), img.PNG, 0o644)
		}
	}
	// The hash tells charts apart: the weekly chart is not the ranking.
	if hamming(perceptualHash(decodeImage(t, rank[0].PNG)), perceptualHash(decodeImage(t, weekly[0].PNG))) < 64 {
		t.Error("the perceptual hash does not tell two charts apart")
	}
}

// perceptualHash is a difference hash: the image in grey, shrunk to 33×32
// cells, one bit per cell saying whether it is brighter than its right
// neighbour.
func perceptualHash(img image.Image) []byte {
	const w, h = 33, 32
	b := img.Bounds()
	var cells [h][w]float64
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			cells[(y-b.Min.Y)*h/b.Dy()][(x-b.Min.X)*w/b.Dx()] += 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)
		}
	}
	out := make([]byte, w*h/8)
	for y := range h {
		for x := range w - 1 {
			if cells[y][x] > cells[y][x+1] {
				i := y*(w-1) + x
				out[i/8] |= 1 << (i % 8)
			}
		}
	}
	return out
}

func hamming(a, b []byte) int {
	n := 0
	for i := range a {
		n += bits.OnesCount8(a[i] ^ b[i])
	}
	return n
}

func decodeImage(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func decode(t testing.TB, data []byte) (int, int) {
	t.Helper()
	b := decodeImage(t, data).Bounds()
	return b.Dx(), b.Dy()
}

func rgba(c interface{ RGBA() (r, g, b, a uint32) }) color.RGBA {
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// count counts the pixels of colour c.
func count(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if rgba(img.At(x, y)) == c {
				n++
			}
		}
	}
	return n
}
