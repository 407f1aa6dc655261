package chart

import (
	"errors"
	"math"
	"slices"

	"github.com/go-analyze/charts/chartdraw/drawing"
)

// Trend is a line chart over periods (months): one line per series, a gap
// where a value is missing (NaN), the numbers written at the points of the
// lines that ask for it and at the last point of every line.
type Trend struct {
	Title, Subtitle string
	// Labels name the periods, left to right.
	Labels []string
	Lines  []Line
	// Decimals is the number of digits after the point of the numbers.
	Decimals int
	// Ceiling, when above 0, is a value no figure can pass (100 for a
	// rate): the axis stops there.
	Ceiling float64
	// Note is printed under the chart.
	Note string
}

// Line is one series of a Trend.
type Line struct {
	Name string
	// Values has one value per label; NaN leaves a gap.
	Values []float64
	// Dashed draws a line for comparison (the district beside a unit).
	Dashed bool
	// Numbers writes the value at every point, not only the last.
	Numbers bool
}

// Trend geometry, in pixels.
const (
	plotHeight  = 400
	xLabelsHead = 44
	endLabelsW  = 92 // room right of the plot for the last values
)

// Render draws the chart as one image.
func (t Trend) Render() (Image, error) {
	if len(t.Labels) == 0 || len(t.Lines) == 0 {
		return Image{}, errors.New("chart: a trend needs labels and lines")
	}
	items := make([]legendItem, len(t.Lines))
	for i, l := range t.Lines {
		items[i] = legendItem{name: l.Name, color: t.color(i), dashed: l.Dashed}
	}
	probe, err := newCanvas(Width, 1)
	if err != nil {
		return Image{}, err
	}
	top := probe.legend(items, probe.header(t.Title, t.Subtitle))
	height := top + 20 + plotHeight + xLabelsHead + probe.noteHeight(t.Note) + pad
	c, err := newCanvas(Width, height)
	if err != nil {
		return Image{}, err
	}
	y := c.legend(items, c.header(t.Title, t.Subtitle)) + 20

	lo, hi := t.domain()
	ax := niceAxis(lo, hi, 4)
	tickW := c.width(number(ax.hi, 0), sizeSmall)
	plotLeft, plotRight := pad+tickW+12, Width-pad-endLabelsW
	plotTop, plotBottom := y, y+plotHeight
	ys := func(v float64) int { // value to y, through the axis laid vertically
		a := ax
		a.x0, a.x1 = plotBottom, plotTop
		return a.pos(v)
	}
	for _, v := range ax.ticks() {
		yy := ys(v)
		c.rect(plotLeft, yy, plotRight, yy+1, colorGrid)
		c.textRight(number(v, 0), plotLeft-10, yy+sizeSmall*3/8, sizeSmall, colorMuted)
	}
	step := float64(plotRight-plotLeft) / float64(len(t.Labels))
	xs := func(i int) int { return plotLeft + int(math.Round(step*(float64(i)+0.5))) }
	for i, l := range t.Labels {
		s := c.fit(l, sizeSmall+2, int(step)-4)
		c.text(s, xs(i)-c.width(s, sizeSmall+2)/2, plotBottom+xLabelsHead-12, sizeSmall+2, colorText)
	}
	var ends []endLabel
	// The first line is drawn last, over the others.
	for i := len(t.Lines) - 1; i >= 0; i-- {
		l, col := t.Lines[i], t.color(i)
		var pts []point
		last := -1
		for j, v := range l.Values {
			if j >= len(t.Labels) {
				break
			}
			if math.IsNaN(v) {
				pts = append(pts, point{xs(j), gap})
				continue
			}
			pts = append(pts, point{xs(j), ys(v)})
			last = j
		}
		width := 4.0
		if l.Dashed {
			width = 3
		}
		c.line(pts, col, width, l.Dashed)
		if !l.Dashed {
			c.dots(pts, col, 6)
		}
		if l.Numbers {
			for j, p := range pts {
				if p.y != gap && j != last {
					s := number(l.Values[j], t.Decimals)
					c.text(s, p.x-c.width(s, sizeSmall)/2, p.y-14, sizeSmall, col)
				}
			}
		}
		if last >= 0 {
			ends = append(ends, endLabel{text: number(l.Values[last], t.Decimals), y: ys(l.Values[last]), color: col})
		}
	}
	for _, e := range spread(ends, sizeSmall+6, plotTop, plotBottom) {
		c.text(e.text, plotRight+10, e.y+sizeSmall*3/8, sizeSmall+2, e.color)
	}
	if t.Note != "" {
		c.footnote(t.Note, plotBottom+xLabelsHead)
	}
	return c.image()
}

// color is the colour of line i: the palette's, a dashed line grey.
func (t Trend) color(i int) drawing.Color {
	if t.Lines[i].Dashed {
		return colorMuted
	}
	return seriesColor(i)
}

// domain is the range of every value, widened to at least 5 and by a tenth
// of the spread on each side, but not past the ceiling.
func (t Trend) domain() (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, l := range t.Lines {
		for _, v := range l.Values {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		return 0, 100
	}
	span := math.Max(hi-lo, 5)
	lo, hi = lo-span/10, hi+span/10
	if t.Ceiling > 0 {
		hi = math.Min(hi, t.Ceiling)
	}
	return lo, hi
}

// endLabel is the number at the end of a line.
type endLabel struct {
	text  string
	y     int
	color drawing.Color
}

// spread moves end labels apart so that no two are closer than gap, within
// [top, bottom], keeping their order.
func spread(labels []endLabel, gap, top, bottom int) []endLabel {
	out := slices.Clone(labels)
	slices.SortStableFunc(out, func(a, b endLabel) int { return a.y - b.y })
	for i := 1; i < len(out); i++ {
		out[i].y = max(out[i].y, out[i-1].y+gap)
	}
	if n := len(out); n > 0 && out[n-1].y > bottom {
		out[n-1].y = bottom
		for i := n - 2; i >= 0; i-- {
			out[i].y = min(out[i].y, out[i+1].y-gap)
		}
	}
	for i := range out {
		out[i].y = max(out[i].y, top)
	}
	return out
}
