// Package chart draws line charts of a run as PNG images with the standard library's image
// packages and the fixed 7×13 font of golang.org/x/image/font/basicfont: a title, one or more
// panels stacked on a shared x axis (seconds of the run), each with its own y axis, tick labels,
// grid and legend. It is made for figures such as throughput (events/s) above latency p50/p99 (ms)
// per second of a run, not for general plotting.
package chart

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
)

// Point is one value of a series: X in the chart's x unit (seconds of the run), Y in its panel's.
// A NaN or infinite Y leaves a gap in the line.
type Point struct {
	X, Y float64
}

// Series is one line of a panel, named in the panel's legend.
type Series struct {
	Name   string
	Points []Point
}

// Panel is one plot area with its own y axis. Title is drawn above it, YLabel along its y axis.
type Panel struct {
	Title  string
	YLabel string
	Series []Series
}

// Chart is a figure: a title above panels stacked top to bottom that share one x axis.
// The zero values of XLabel, Width and Height mean "seconds", 1000 and 600 pixels.
type Chart struct {
	Title  string
	XLabel string
	Width  int
	Height int
	Panels []Panel
}

// Default size and the smallest size Render accepts, in pixels.
const (
	DefaultWidth  = 1000
	DefaultHeight = 600
	MinWidth      = 300
	MinHeight     = 200
)

// ErrNoPanels is returned for a chart without panels.
var ErrNoPanels = errors.New("chart: no panels to draw")

// Render draws c and writes it to w as a PNG image.
func Render(w io.Writer, c Chart) error {
	img, err := Draw(c)
	if err != nil {
		return err
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("chart: encode PNG: %w", err)
	}
	return nil
}

// Colors of the figure. Series take the palette's colors in order, a panel's first series the
// first color, and start again after the last; with an empty palette lines are drawn in Ink.
var (
	Background = color.RGBA{0xff, 0xff, 0xff, 0xff}
	Ink        = color.RGBA{0x22, 0x22, 0x22, 0xff}
	GridColor  = color.RGBA{0xe3, 0xe3, 0xe3, 0xff}
	Palette    = []color.RGBA{
		{0x1f, 0x77, 0xb4, 0xff}, // blue
		{0xd6, 0x27, 0x28, 0xff}, // red
		{0x2c, 0xa0, 0x2c, 0xff}, // green
		{0xff, 0x7f, 0x0e, 0xff}, // orange
		{0x94, 0x67, 0xbd, 0xff}, // purple
		{0x8c, 0x56, 0x4b, 0xff}, // brown
	}
)

// Layout, in pixels.
const (
	marginLeft   = 78 // y label and tick labels
	marginRight  = 24
	marginTop    = 46 // the title at twice the font's size
	marginBottom = 46 // x tick labels and x label
	panelHeader  = 20 // a panel's title
	panelGap     = 14 // between one panel's plot and the next panel's title
	tickLength   = 5
	lineWidth    = 2
)

// Draw draws c into a new image, for callers that want to compose or inspect it.
func Draw(c Chart) (*image.RGBA, error) {
	if len(c.Panels) == 0 {
		return nil, ErrNoPanels
	}
	if c.Width == 0 {
		c.Width = DefaultWidth
	}
	if c.Height == 0 {
		c.Height = DefaultHeight
	}
	if c.XLabel == "" {
		c.XLabel = "seconds"
	}
	if c.Width < MinWidth || c.Height < MinHeight {
		return nil, fmt.Errorf("chart: %d×%d pixels is smaller than %d×%d", c.Width, c.Height, MinWidth, MinHeight)
	}
	plotsHeight := c.Height - marginTop - marginBottom - len(c.Panels)*panelHeader - (len(c.Panels)-1)*panelGap
	panelPlot := plotsHeight / len(c.Panels)
	if panelPlot < 40 {
		return nil, fmt.Errorf("chart: %d panels do not fit in %d pixels of height", len(c.Panels), c.Height)
	}

	img := image.NewRGBA(image.Rect(0, 0, c.Width, c.Height))
	fill(img, img.Bounds(), Background)
	titleScale := 2 // twice the font's size, or its own where that does not fit
	if textWidth(c.Title)*2 > c.Width-20 {
		titleScale = 1
	}
	drawText(img, max(4, (c.Width-textWidth(c.Title)*titleScale)/2), 8+(2-titleScale)*6, c.Title, Ink, titleScale)

	xmin, xmax := xRange(c.Panels)
	xticks := niceTicks(xmin, xmax, max(2, (c.Width-marginLeft-marginRight)/90))
	xmin, xmax = xticks[0], xticks[len(xticks)-1]

	top := marginTop
	for i, p := range c.Panels {
		plot := image.Rect(marginLeft, top+panelHeader, c.Width-marginRight, top+panelHeader+panelPlot)
		last := i == len(c.Panels)-1
		drawPanel(img, p, plot, axis{xmin, xmax, xticks}, last)
		top = plot.Max.Y + panelGap
	}
	xlabelY := c.Height - marginBottom + 26
	drawText(img, marginLeft+(c.Width-marginLeft-marginRight-textWidth(c.XLabel))/2, xlabelY, c.XLabel, Ink, 1)
	return img, nil
}

// axis is a range and its tick values; ticks[0] and ticks[len-1] are the range's ends.
type axis struct {
	min, max float64
	ticks    []float64
}

func (a axis) scale(v float64, lo, hi int) float64 {
	return float64(lo) + (v-a.min)/(a.max-a.min)*float64(hi-lo)
}

// drawPanel draws one panel's grid, axes, ticks, labels, lines and legend in plot.
func drawPanel(img *image.RGBA, p Panel, plot image.Rectangle, x axis, xTickLabels bool) {
	ymin, ymax := yRange(p.Series)
	yticks := niceTicks(ymin, ymax, max(3, plot.Dy()/30))
	y := axis{yticks[0], yticks[len(yticks)-1], yticks}
	px := func(v float64) float64 { return x.scale(v, plot.Min.X, plot.Max.X-1) }
	py := func(v float64) float64 { return y.scale(v, plot.Max.Y-1, plot.Min.Y) }

	// Grid, then the frame over it.
	for _, t := range x.ticks {
		X := int(math.Round(px(t)))
		vline(img, X, plot.Min.Y, plot.Max.Y-1, GridColor)
		vline(img, X, plot.Max.Y, plot.Max.Y+tickLength, Ink)
		if xTickLabels {
			s := formatTick(t, x.ticks)
			drawText(img, X-textWidth(s)/2, plot.Max.Y+tickLength+3, s, Ink, 1)
		}
	}
	yDigits := 0
	for _, t := range y.ticks {
		Y := int(math.Round(py(t)))
		hline(img, plot.Min.X, plot.Max.X-1, Y, GridColor)
		hline(img, plot.Min.X-tickLength, plot.Min.X, Y, Ink)
		s := formatTick(t, y.ticks)
		yDigits = max(yDigits, textWidth(s))
		drawText(img, plot.Min.X-tickLength-3-textWidth(s), Y-glyphAscent/2-1, s, Ink, 1)
	}
	frame(img, plot, Ink)

	// Panel title above the plot, y label along the axis, left of the tick labels.
	drawText(img, plot.Min.X, plot.Min.Y-panelHeader+4, p.Title, Ink, 1)
	if p.YLabel != "" {
		w := textWidth(p.YLabel)
		drawTextUp(img, max(2, plot.Min.X-tickLength-3-yDigits-6-glyphHeight), plot.Min.Y+(plot.Dy()+w)/2, p.YLabel, Ink)
	}

	// Lines, clipped to the plot; a point alone between gaps is drawn as a dot.
	clip := plot.Inset(1)
	for i, s := range p.Series {
		col := seriesColor(i)
		var run []image.Point
		flush := func() {
			if len(run) == 1 {
				dot(img, clip, run[0], col)
			}
			for j := 1; j < len(run); j++ {
				line(img, clip, run[j-1], run[j], col)
			}
			run = run[:0]
		}
		for _, pt := range s.Points {
			if !finite(pt.X) || !finite(pt.Y) {
				flush()
				continue
			}
			run = append(run, image.Pt(int(math.Round(px(pt.X))), int(math.Round(py(pt.Y)))))
		}
		flush()
	}
	drawLegend(img, p.Series, plot)
}

// drawLegend boxes the series' names with their colors in the plot's top right corner.
func drawLegend(img *image.RGBA, series []Series, plot image.Rectangle) {
	if len(series) == 0 {
		return
	}
	const swatch, pad, row = 22, 6, glyphHeight + 4
	w := 0
	for _, s := range series {
		w = max(w, textWidth(s.Name))
	}
	box := image.Rect(0, 0, pad+swatch+pad+w+pad, pad+len(series)*row+pad-4)
	box = box.Add(image.Pt(plot.Max.X-box.Dx()-8, plot.Min.Y+8))
	fill(img, box, Background)
	frame(img, box, GridColor)
	for i, s := range series {
		col := seriesColor(i)
		y := box.Min.Y + pad + i*row
		mid := y + glyphAscent/2 + 1
		fill(img, image.Rect(box.Min.X+pad, mid-1, box.Min.X+pad+swatch, mid+1), col)
		drawText(img, box.Min.X+pad+swatch+pad, y, s.Name, Ink, 1)
	}
}

// xRange is the span of every finite X of every panel, or 0..1 without any.
func xRange(panels []Panel) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range panels {
		for _, s := range p.Series {
			for _, pt := range s.Points {
				if finite(pt.X) && finite(pt.Y) {
					lo, hi = math.Min(lo, pt.X), math.Max(hi, pt.X)
				}
			}
		}
	}
	if lo > hi {
		return 0, 1
	}
	return lo, hi
}

// yRange is the span of a panel's finite values, from zero when they are all positive (rates and
// latencies read better from a zero baseline), or 0..1 without any. A margin of 5% above (and
// below, for negative values) keeps a line at the extreme off the frame.
func yRange(series []Series) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, pt := range s.Points {
			if finite(pt.X) && finite(pt.Y) {
				lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
			}
		}
	}
	if lo > hi {
		return 0, 1
	}
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	margin := (hi - lo) * 0.05
	if hi > 0 {
		hi += margin
	}
	if lo < 0 {
		lo -= margin
	}
	return lo, hi
}

func seriesColor(i int) color.RGBA {
	if len(Palette) == 0 {
		return Ink
	}
	return Palette[i%len(Palette)]
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
