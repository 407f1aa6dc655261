package chart

import (
	"errors"
	"math"
	"strconv"

	"github.com/go-analyze/charts/chartdraw/drawing"
)

// Bars is a horizontal bar chart: groups of labelled bars, each bar with one
// value per series and its number at its end, an optional reference line
// (the district's average) across them, and a note under them.
type Bars struct {
	Title, Subtitle string
	// Series names the values of each bar; with more than one, the bars of a
	// row stand one under the other, in series colours, named in the legend.
	Series []string
	Groups []Group
	// FromZero starts the value axis at 0; otherwise it starts at a round
	// value below the smallest bar, so that close scores can be told apart.
	FromZero bool
	// Decimals is the number of digits after the point of the numbers.
	Decimals int
	// Reference, when set, is drawn as a dashed line across the bars.
	Reference *Reference
	// Tones names the tones in the legend ("红榜", "黑榜"); a tone without a
	// name is not listed.
	Tones map[Tone]string
	// Note is printed under the bars of the last image.
	Note string
}

// Group is a headed list of bars (区级部门, 镇街, 社区).
type Group struct {
	Name string
	Bars []Bar
}

// Bar is one row: a label and a value per series.
type Bar struct {
	Label  string
	Values []float64
	// Tone colours a one-series bar (红榜, 黑榜); Plain keeps the series colour.
	Tone Tone
}

// Reference is a value marked across the bars.
type Reference struct {
	Value float64
	Label string // the legend's name for it: 全区平均
}

// Row geometry, in pixels.
const (
	barThick     = 30 // a bar of a one-series chart
	barThickEach = 20 // each bar of a multi-series row
	barGap       = 6  // between the bars of a row
	rowGap       = 16 // between rows
	groupHead    = 48 // a group's heading
	axisHead     = 34 // the tick labels above the bars
)

// Render draws the chart, split into images of at most MaxBars bars; each
// image after the first carries "（续）" on a group continued from the one
// before, and every image of a split chart "（i/n）" after the title.
func (b Bars) Render() ([]Image, error) {
	if len(b.Series) == 0 {
		return nil, errors.New("chart: bars without a series")
	}
	pages := b.paginate()
	lo, hi := b.domain()
	out := make([]Image, 0, len(pages))
	for i, pg := range pages {
		title := b.Title
		if len(pages) > 1 {
			title += "（" + strconv.Itoa(i+1) + "/" + strconv.Itoa(len(pages)) + "）"
		}
		note := ""
		if i == len(pages)-1 {
			note = b.Note
		}
		img, err := b.draw(title, pg, lo, hi, note)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// paginate cuts the groups into pages of at most MaxBars bars; a group cut
// in two is headed "（续）" on the second page.
func (b Bars) paginate() [][]Group {
	var pages [][]Group
	var page []Group
	n := 0
	for _, g := range b.Groups {
		name := g.Name
		bars := g.Bars
		for len(bars) > 0 {
			if n == MaxBars {
				pages, page, n = append(pages, page), nil, 0
			}
			take := min(len(bars), MaxBars-n)
			page = append(page, Group{Name: name, Bars: bars[:take]})
			n += take
			bars = bars[take:]
			name = g.Name + "（续）"
		}
	}
	if len(page) > 0 || len(pages) == 0 {
		pages = append(pages, page)
	}
	return pages
}

// domain returns the range of the value axis over every bar (and the
// reference), shared by all the images of the chart.
func (b Bars) domain() (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, g := range b.Groups {
		for _, bar := range g.Bars {
			for _, v := range bar.Values {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if b.Reference != nil {
		lo, hi = math.Min(lo, b.Reference.Value), math.Max(hi, b.Reference.Value)
	}
	switch {
	case math.IsInf(lo, 1):
		return 0, 1
	case b.FromZero || lo >= 0 && lo < (hi-lo):
		// Bars far from each other, or counts: from zero.
		return math.Min(0, lo), math.Max(hi, 1)
	}
	// Close values: start a third of their spread below the lowest.
	return math.Max(0, lo-math.Max((hi-lo)/3, 1)), hi
}

// rowHeight is the height of one row of bars.
func (b Bars) rowHeight() int {
	if len(b.Series) == 1 {
		return barThick + rowGap
	}
	return len(b.Series)*(barThickEach+barGap) - barGap + rowGap
}

// legendItems are the series (when several), the named tones and the reference.
func (b Bars) legendItems() []legendItem {
	var items []legendItem
	if len(b.Series) > 1 {
		for i, s := range b.Series {
			items = append(items, legendItem{name: s, color: seriesColor(i)})
		}
	}
	for _, t := range []Tone{Good, Bad, Plain} {
		if name := b.Tones[t]; name != "" {
			items = append(items, legendItem{name: name, color: b.toneColor(t)})
		}
	}
	if r := b.Reference; r != nil {
		items = append(items, legendItem{name: r.Label + " " + number(r.Value, b.Decimals), color: colorReference, dashed: true})
	}
	return items
}

// toneColor is the colour of a one-series bar of tone t.
func (b Bars) toneColor(t Tone) drawing.Color {
	switch t {
	case Good:
		return colorGood
	case Bad:
		return colorBad
	}
	return seriesColor(0)
}

// draw renders one page.
func (b Bars) draw(title string, groups []Group, lo, hi float64, note string) (Image, error) {
	// Measure on a scratch canvas, then draw on one of the right height.
	probe, err := newCanvas(Width, 1)
	if err != nil {
		return Image{}, err
	}
	top := probe.header(title, b.Subtitle)
	top = probe.legend(b.legendItems(), top)
	rows := 0
	for _, g := range groups {
		rows += len(g.Bars)
	}
	height := top + axisHead + len(groups)*groupHead + rows*b.rowHeight() + probe.noteHeight(note) + pad + 8

	c, err := newCanvas(Width, height)
	if err != nil {
		return Image{}, err
	}
	y := c.header(title, b.Subtitle)
	y = c.legend(b.legendItems(), y)

	labelW := 0
	valueW := c.width(number(hi, b.Decimals), sizeValue)
	for _, g := range groups {
		for _, bar := range g.Bars {
			labelW = max(labelW, c.width(bar.Label, sizeLabel))
			for _, v := range bar.Values {
				valueW = max(valueW, c.width(number(v, b.Decimals), sizeValue))
			}
		}
	}
	labelW = min(labelW, Width*34/100)
	ax := niceAxis(lo, hi, 4)
	ax.x0, ax.x1 = pad+labelW+14, Width-pad-valueW-10

	// Tick labels, then the grid they head.
	y += axisHead
	plotTop, plotBottom := y-6, height-pad-c.noteHeight(note)-4
	for _, t := range ax.ticks() {
		x := ax.pos(t)
		s := number(t, 0)
		c.text(s, x-c.width(s, sizeSmall)/2, y-12, sizeSmall, colorMuted)
		c.rect(x, plotTop, x+1, plotBottom, colorGrid)
	}
	if r := b.Reference; r != nil {
		x := ax.pos(r.Value)
		c.line([]point{{x, plotTop}, {x, plotBottom}}, colorReference, 3, true)
	}
	rowH := b.rowHeight()
	for _, g := range groups {
		y += groupHead
		c.text(g.Name, pad, y-14, sizeLabel+2, colorText)
		c.rect(pad, y-6, Width-pad, y-4, colorGrid)
		for _, bar := range g.Bars {
			b.drawRow(c, bar, ax, y+rowGap/2, labelW)
			y += rowH
		}
	}
	if note != "" {
		c.footnote(note, plotBottom+4)
	}
	return c.image()
}

// drawRow draws one row of bars from y: its label, its bars and their numbers.
func (b Bars) drawRow(c *canvas, bar Bar, ax axis, y, labelW int) {
	thick := barThick
	if len(b.Series) > 1 {
		thick = barThickEach
	}
	block := len(b.Series)*(thick+barGap) - barGap
	c.textRight(c.fit(bar.Label, sizeLabel, labelW), pad+labelW, y+block/2+sizeLabel*3/8, sizeLabel, colorText)
	for i := range b.Series {
		v := 0.0
		if i < len(bar.Values) {
			v = bar.Values[i]
		}
		col := seriesColor(i)
		if len(b.Series) == 1 {
			col = b.toneColor(bar.Tone)
		}
		top := y + i*(thick+barGap)
		end := ax.pos(v)
		if end > ax.x0 {
			c.rect(ax.x0, top, end, top+thick, col)
		}
		c.text(number(v, b.Decimals), max(end, ax.x0)+8, top+thick/2+sizeValue*3/8, sizeValue, colorText)
	}
}
