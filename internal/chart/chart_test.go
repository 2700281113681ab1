package chart_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-event-processor/go-event-processor/internal/chart"
)

// runChart is a 60-second run: throughput ramping to ~1,000 events/s with a dip, and latency
// percentiles that rise during the dip; second 30 has no latency sample (a gap).
func runChart() chart.Chart {
	var tput, p50, p99 []chart.Point
	for s := 0; s <= 60; s++ {
		x := float64(s)
		rate := 1000 * (1 - math.Exp(-x/6))
		if s >= 35 && s < 40 {
			rate *= 0.4
		}
		tput = append(tput, chart.Point{X: x, Y: rate})
		lat50, lat99 := 40+5*math.Sin(x/4), 120+30*math.Sin(x/3)
		if s >= 35 && s < 40 {
			lat50, lat99 = lat50*3, lat99*2.5
		}
		if s == 30 {
			lat50, lat99 = math.NaN(), math.NaN()
		}
		p50 = append(p50, chart.Point{X: x, Y: lat50})
		p99 = append(p99, chart.Point{X: x, Y: lat99})
	}
	return chart.Chart{
		Title: "Local stack run: 60,000 events, batch size 1000",
		Panels: []chart.Panel{
			{Title: "Throughput", YLabel: "events/s", Series: []chart.Series{{Name: "persisted events/s", Points: tput}}},
			{Title: "End-to-end latency", YLabel: "ms", Series: []chart.Series{{Name: "p50", Points: p50}, {Name: "p99", Points: p99}}},
		},
	}
}

func decode(t *testing.T, c chart.Chart) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := chart.Render(&buf, c); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("decode the PNG: %v", err)
	}
	return img
}

func count(img image.Image, want color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.RGBAModel.Convert(img.At(x, y)).(color.RGBA) == want {
				n++
			}
		}
	}
	return n
}

func TestRender(t *testing.T) {
	img := decode(t, runChart())
	if got := img.Bounds(); got != image.Rect(0, 0, chart.DefaultWidth, chart.DefaultHeight) {
		t.Fatalf("bounds = %v, want 1000×600", got)
	}
	total := chart.DefaultWidth * chart.DefaultHeight
	if bg := count(img, chart.Background); bg == total || bg < total/2 {
		t.Errorf("%d of %d pixels are background: want some drawing on a mostly white image", bg, total)
	}
	if ink := count(img, chart.Ink); ink < 2000 {
		t.Errorf("%d ink pixels: want the frames, ticks and labels", ink)
	}
	// Each series' line: the first color in both panels, the second in the latency panel only.
	for i, min := range []int{1000, 500} {
		if n := count(img, chart.Palette[i]); n < min {
			t.Errorf("%d pixels of series color %d, want at least %d", n, i, min)
		}
	}
	if n := count(img, chart.Palette[2]); n != 0 {
		t.Errorf("%d pixels of a third series color, but no panel has three series", n)
	}

	// CHART_SAMPLE_DIR=dir keeps the figure as dir/chart-sample.png, to look at.
	if dir := os.Getenv("CHART_SAMPLE_DIR"); dir != "" {
		var buf bytes.Buffer
		if err := chart.Render(&buf, runChart()); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "chart-sample.png")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("sample written to %s", path)
	}
}

func TestRenderSizesAndEdges(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    chart.Chart
		w, h int
	}{
		{"custom size", chart.Chart{Width: 640, Height: 400, Panels: runChart().Panels}, 640, 400},
		{"one panel, one point", chart.Chart{Title: "one", Panels: []chart.Panel{{Series: []chart.Series{{Name: "x", Points: []chart.Point{{X: 3, Y: 7}}}}}}}, 1000, 600},
		{"no data at all", chart.Chart{Panels: []chart.Panel{{Title: "empty"}}}, 1000, 600},
		{"only gaps", chart.Chart{Panels: []chart.Panel{{Series: []chart.Series{{Name: "nan", Points: []chart.Point{{X: 1, Y: math.NaN()}, {X: math.Inf(1), Y: 2}}}}}}}, 1000, 600},
		{"negative values", chart.Chart{Panels: []chart.Panel{{Series: []chart.Series{{Name: "d", Points: []chart.Point{{X: -5, Y: -3}, {X: 5, Y: 2}}}}}}}, 1000, 600},
		{"non-ASCII labels", chart.Chart{Title: "p50 – p99 × 2 µs", Panels: runChart().Panels[:1]}, 1000, 600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := decode(t, tc.c)
			if got := img.Bounds(); got.Dx() != tc.w || got.Dy() != tc.h {
				t.Errorf("size = %v, want %d×%d", got.Size(), tc.w, tc.h)
			}
			if count(img, chart.Ink) == 0 {
				t.Error("no axes drawn")
			}
		})
	}
	// A lone point is drawn as a dot.
	img := decode(t, chart.Chart{Panels: []chart.Panel{{Series: []chart.Series{{Name: "x", Points: []chart.Point{{X: 3, Y: 7}}}}}}})
	if count(img, chart.Palette[0]) < 9 {
		t.Error("a lone point left no dot")
	}
}

func TestRenderErrors(t *testing.T) {
	if err := chart.Render(&bytes.Buffer{}, chart.Chart{}); !errors.Is(err, chart.ErrNoPanels) {
		t.Errorf("no panels: err = %v, want ErrNoPanels", err)
	}
	for _, tc := range []struct {
		name string
		c    chart.Chart
		want string
	}{
		{"too small", chart.Chart{Width: 100, Height: 600, Panels: runChart().Panels}, "smaller than"},
		{"too many panels", chart.Chart{Height: 200, Panels: make([]chart.Panel, 5)}, "do not fit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := chart.Render(&bytes.Buffer{}, tc.c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}
