// Package chart draws the product's charts as PNG images from plain values:
// ranked bars (Bars) and lines over time (Trend). It knows nothing of units,
// tickets or WeCom: package report turns the store's figures into these
// values, and package bot delivers the images.
//
// Images are drawn in Go with go-analyze/charts' painter and a CJK font
// embedded in the binary (font.go), so they come out the same on every
// machine, offline, whatever fonts the system has. They are laid out for a
// phone: WeCom shows an image about 360 px wide, so the canvas is Width (720
// px) across with large type, at most MaxBars bars to an image, and every bar
// carries its number.
package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strconv"

	"github.com/go-analyze/charts/chartdraw"
	"github.com/go-analyze/charts/chartdraw/drawing"
	"github.com/golang/freetype/truetype"
)

// Width is the width of every image, in pixels: twice what a phone shows.
const Width = 720

// MaxBars is the most bars one image holds; a longer chart is split.
const MaxBars = 25

// Image is one rendered chart.
type Image struct {
	PNG           []byte
	Width, Height int
	// Missing lists the characters drawn that the font has no glyph for
	// (drawn as empty boxes), once each; empty when every text was drawn.
	Missing []rune
}

// Tone colours a bar apart from its series: a bar on the red list (红榜) or
// on the black list (黑榜).
type Tone uint8

// Tones.
const (
	Plain Tone = iota
	Good
	Bad
)

// Colours, as WeCom's light theme shows them well.
var (
	colorBackground = rgb(255, 255, 255)
	colorText       = rgb(33, 33, 33)
	colorMuted      = rgb(117, 117, 117)
	colorGrid       = rgb(230, 230, 230)
	colorGood       = rgb(217, 48, 37) // 红榜 is red
	colorBad        = rgb(38, 38, 38)  // 黑榜 is black
	colorReference  = rgb(230, 120, 0)
	// palette colours the series in order.
	palette = []drawing.Color{
		rgb(84, 112, 198),
		rgb(145, 204, 117),
		rgb(250, 200, 88),
		rgb(238, 102, 102),
		rgb(115, 192, 222),
	}
)

func rgb(r, g, b uint8) drawing.Color { return drawing.Color{R: r, G: g, B: b, A: 255} }

// seriesColor returns the colour of series i.
func seriesColor(i int) drawing.Color { return palette[i%len(palette)] }

// Text sizes in pixels.
const (
	sizeTitle    = 34
	sizeSubtitle = 22
	sizeLabel    = 24
	sizeValue    = 22
	sizeSmall    = 19
	pad          = 28
)

// canvas is a raster renderer with the chart font, that notes the
// characters the font lacks as it draws them.
type canvas struct {
	r       chartdraw.Renderer
	font    *truetype.Font
	w, h    int
	missing []rune
}

func newCanvas(w, h int) (*canvas, error) {
	f, err := loadFont()
	if err != nil {
		return nil, err
	}
	r := chartdraw.PNG(w, h)
	r.SetDPI(72) // font sizes in pixels
	// The canvas starts transparent; image lays it on the background.
	return &canvas{r: r, font: f, w: w, h: h}, nil
}

// setFont sets the text style of the renderer.
func (c *canvas) setFont(size float64, col drawing.Color) {
	c.r.SetFont(c.font)
	c.r.SetFontSize(size)
	c.r.SetFontColor(col)
}

// text draws s with its baseline at y, starting at x.
func (c *canvas) text(s string, x, y int, size float64, col drawing.Color) {
	if s == "" {
		return
	}
	c.missing = missingIn(c.font, s, c.missing)
	defer c.r.ResetStyle()
	c.setFont(size, col)
	c.r.Text(s, x, y)
}

// textRight draws s ending at x.
func (c *canvas) textRight(s string, x, y int, size float64, col drawing.Color) {
	c.text(s, x-c.width(s, size), y, size, col)
}

// width is how wide s is drawn at size.
func (c *canvas) width(s string, size float64) int {
	if s == "" {
		return 0
	}
	defer c.r.ResetStyle()
	c.setFont(size, colorText)
	return c.r.MeasureText(s).Width()
}

// fit returns s, or as much of it as fits in max pixels followed by "…".
func (c *canvas) fit(s string, size float64, max int) string {
	if c.width(s, size) <= max {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r) // the longest prefix that fits with the ellipsis
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if c.width(string(r[:mid])+"…", size) <= max {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return string(r[:lo]) + "…"
}

// wrap cuts s into lines of at most max pixels, at any character.
func (c *canvas) wrap(s string, size float64, max int) []string {
	var lines []string
	for s != "" {
		line := c.fit(s, size, max)
		n := len(line)
		if line != s {
			n = len(line) - len("…")
			if n == 0 {
				n = len(string([]rune(s)[0]))
			}
		}
		lines = append(lines, s[:n])
		s = s[n:]
	}
	return lines
}

// rect fills a rectangle.
func (c *canvas) rect(x1, y1, x2, y2 int, col drawing.Color) {
	defer c.r.ResetStyle()
	c.r.SetFillColor(col)
	c.r.MoveTo(x1, y1)
	c.r.LineTo(x2, y1)
	c.r.LineTo(x2, y2)
	c.r.LineTo(x1, y2)
	c.r.Close()
	c.r.Fill()
}

// gap marks a missing point of a polyline.
const gap = math.MaxInt32

// line strokes a polyline, broken where a point's Y is gap, dashed when
// dashed is set.
func (c *canvas) line(points []point, col drawing.Color, width float64, dashed bool) {
	defer c.r.ResetStyle()
	c.r.SetStrokeColor(col)
	c.r.SetStrokeWidth(width)
	if dashed {
		c.r.SetStrokeDashArray([]float64{10, 6})
	}
	drawn := false
	for i, p := range points {
		switch {
		case p.y == gap:
			continue
		case i == 0 || points[i-1].y == gap:
			c.r.MoveTo(p.x, p.y)
		default:
			c.r.LineTo(p.x, p.y)
			drawn = true
		}
	}
	if drawn {
		c.r.Stroke()
	}
}

// dots fills a circle of radius at each point that is not a gap.
func (c *canvas) dots(points []point, col drawing.Color, radius float64) {
	defer c.r.ResetStyle()
	c.r.SetFillColor(col)
	for _, p := range points {
		if p.y != gap {
			c.r.Circle(radius, p.x, p.y)
		}
	}
	c.r.Fill()
}

// point is a point of the canvas.
type point struct{ x, y int }

// image lays the canvas on the background and encodes it as PNG, favouring
// speed: a chart has few colours, so it is written with a palette (one byte
// a pixel, no filtering) when it has at most 256, and compresses well even
// at the fastest level.
func (c *canvas) image() (Image, error) {
	var collect chartdraw.ImageWriter
	if err := c.r.Save(&collect); err != nil {
		return Image{}, fmt.Errorf("chart: render: %w", err)
	}
	img, err := collect.Image()
	if err != nil {
		return Image{}, fmt.Errorf("chart: render: %w", err)
	}
	rgba, ok := img.(*image.RGBA)
	if !ok {
		return Image{}, fmt.Errorf("chart: render: a %T, not RGBA", img)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, flatten(rgba, colorBackground)); err != nil {
		return Image{}, fmt.Errorf("chart: encode: %w", err)
	}
	return Image{PNG: buf.Bytes(), Width: c.w, Height: c.h, Missing: c.missing}, nil
}

// flatten lays img (premultiplied) over an opaque background bg, in place,
// and returns it with a palette when it has at most 256 colours.
func flatten(img *image.RGBA, bg drawing.Color) image.Image {
	pal := make(color.Palette, 0, 256)
	index := make(map[uint32]uint8, 256)
	out := image.NewPaletted(img.Rect, nil)
	paletted := true
	var last uint32 = 1 // no opaque colour has alpha bits 1
	var lastIdx uint8
	pix := img.Pix
	for i, j := 0, 0; i+3 < len(pix); i, j = i+4, j+1 {
		a := uint32(pix[i+3])
		// Premultiplied "over": c + (1 - a) · bg.
		pix[i] = uint8(uint32(pix[i]) + (255-a)*uint32(bg.R)/255)
		pix[i+1] = uint8(uint32(pix[i+1]) + (255-a)*uint32(bg.G)/255)
		pix[i+2] = uint8(uint32(pix[i+2]) + (255-a)*uint32(bg.B)/255)
		pix[i+3] = 255
		if !paletted {
			continue
		}
		key := uint32(pix[i])<<24 | uint32(pix[i+1])<<16 | uint32(pix[i+2])<<8 | 0xFF
		if key != last {
			idx, seen := index[key]
			if !seen {
				if len(pal) == 256 {
					paletted = false
					continue
				}
				idx = uint8(len(pal))
				index[key] = idx
				pal = append(pal, color.RGBA{pix[i], pix[i+1], pix[i+2], 255})
			}
			last, lastIdx = key, idx
		}
		out.Pix[j] = lastIdx
	}
	if !paletted {
		return img
	}
	out.Palette = pal
	return out
}

// header draws a title and a subtitle from the top and returns where the
// next line may start.
func (c *canvas) header(title, subtitle string) int {
	y := pad + sizeTitle
	c.text(c.fit(title, sizeTitle, c.w-2*pad), pad, y, sizeTitle, colorText)
	if subtitle != "" {
		y += sizeSubtitle + 14
		c.text(c.fit(subtitle, sizeSubtitle, c.w-2*pad), pad, y, sizeSubtitle, colorMuted)
	}
	return y + 18
}

// legendItem is a key of a legend: a swatch (or a dashed stroke) and a name.
type legendItem struct {
	name   string
	color  drawing.Color
	dashed bool
}

// legend draws items in rows from y and returns where the next line may start.
func (c *canvas) legend(items []legendItem, y int) int {
	if len(items) == 0 {
		return y
	}
	const size = sizeSmall
	x, base := pad, y+size
	for _, it := range items {
		w := 30 + c.width(it.name, size) + 24
		if x > pad && x+w > c.w-pad {
			x, base = pad, base+size+14
		}
		mid := base - size/3
		if it.dashed {
			c.line([]point{{x, mid}, {x + 22, mid}}, it.color, 3, true)
		} else {
			c.rect(x, mid-8, x+22, mid+8, it.color)
		}
		c.text(it.name, x+30, base, size, colorText)
		x += w
	}
	return base + 16
}

// footnote draws a note in rows from y and returns where it ends.
func (c *canvas) footnote(note string, y int) int {
	for _, l := range c.wrap(note, sizeSmall, c.w-2*pad) {
		y += sizeSmall + 8
		c.text(l, pad, y, sizeSmall, colorMuted)
	}
	return y
}

// noteHeight is how tall footnote draws note.
func (c *canvas) noteHeight(note string) int {
	if note == "" {
		return 0
	}
	return len(c.wrap(note, sizeSmall, c.w-2*pad)) * (sizeSmall + 8)
}

// axis is a linear scale from [lo, hi] to [x0, x1] with ticks every step.
type axis struct {
	lo, hi, step float64
	x0, x1       int
}

// niceAxis returns an axis over [lo, hi] with about n ticks at round steps.
func niceAxis(lo, hi float64, n int) axis {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return axis{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step, step: step}
}

// pos maps v onto the axis.
func (a axis) pos(v float64) int {
	return a.x0 + int(math.Round((v-a.lo)/(a.hi-a.lo)*float64(a.x1-a.x0)))
}

// ticks returns the tick values from lo to hi.
func (a axis) ticks() []float64 {
	var out []float64
	for v := a.lo; v <= a.hi+a.step/1000; v += a.step {
		out = append(out, math.Round(v/a.step)*a.step)
	}
	return out
}

// number formats v with decimals digits.
func number(v float64, decimals int) string {
	return strconv.FormatFloat(v, 'f', decimals, 64)
}
